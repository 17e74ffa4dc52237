import DataInput
import Foundation
import TestSupport
import XCTest

/// Class folders: labels are indices in sorted class-name order and files are read in
/// torchvision ImageFolder's order; "sorted" is byte-wise UTF-8 order.
final class ClassFolderTests: XCTestCase {
    func testLabelsAndOrderFollowTorchvisionImageFolder() throws {
        let folder = try DatasetTestFolder()
        // Byte order: "Zebra" < "ant" < "bee" < "bee-2" (uppercase before lowercase).
        for file in ["bee/b.png", "bee/A.PNG", "bee/sub/a.png", "bee/c.txt", "ant/x.jpg.bak", "ant/é.png",
                     "ant/e.png", "Zebra/z.png", "bee-2/q.ppm"] {
            try folder.copy("preprocess/tiny.png", to: file)
        }
        let dataset = try Dataset(source: try DataSource.parse(folder.path), options: DatasetOptions(preprocess: .raw))
        XCTAssertEqual(dataset.classNames, ["Zebra", "ant", "bee", "bee-2"])
        let relative = dataset.files.map { String($0.dropFirst(folder.path.count + 1)) }
        // Within a class: the folder's own files sorted, then each subfolder's.
        XCTAssertEqual(relative, ["Zebra/z.png", "ant/e.png", "ant/é.png", "bee/A.PNG", "bee/b.png", "bee/sub/a.png", "bee-2/q.ppm"])
        XCTAssertEqual(dataset.labels, [0, 1, 1, 2, 2, 2, 3])
        XCTAssertEqual(dataset.count, 7)
    }

    func testLabelsFileOverridesAndMustMatchTheCount() throws {
        let folder = try DatasetTestFolder()
        for i in 0..<5 { try folder.copy("preprocess/tiny.png", to: "images/\(i).png") }
        let fromText = try Dataset(source: .imageFolder(path: folder.path + "/images"),
                                   options: DatasetOptions(preprocess: .raw, labelsPath: FixturePaths.path("npy/labels_5.txt")))
        XCTAssertEqual(fromText.labels, [3, 1, 4, 1, 5])
        let fromNPY = try Dataset(source: .imageFolder(path: folder.path + "/images"),
                                  options: DatasetOptions(preprocess: .raw, labelsPath: FixturePaths.path("npy/labels_i64_5.npy")))
        XCTAssertEqual(fromNPY.labels, [3, 1, 4, 1, 5])

        try folder.write(Data("1\n2\n".utf8), to: "short.txt")
        XCTAssertThrowsError(try Dataset(source: .imageFolder(path: folder.path + "/images"),
                                         options: DatasetOptions(preprocess: .raw, labelsPath: folder.path + "/short.txt"))) { error in
            XCTAssertTrue("\(error)".contains("expected 5"), "\(error)")
        }
        try folder.write(Data("1\ntwo\n3\n4\n5\n".utf8), to: "bad.txt")
        XCTAssertThrowsError(try LabelsFile.read(path: folder.path + "/bad.txt")) { error in
            XCTAssertTrue("\(error)".contains("line 2"), "\(error)")
        }
        XCTAssertThrowsError(try LabelsFile.read(path: FixturePaths.path("npy/f32_2x3.npy")))
    }
}
