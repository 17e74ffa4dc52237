import DataInput
import Foundation
import XCTest

final class DataSourceTests: XCTestCase {
    func testSyntheticForms() throws {
        XCTAssertEqual(try DataSource.parse("synthetic:8"), .synthetic(count: 8, seed: 0))
        XCTAssertEqual(try DataSource.parse("synthetic:8:42"), .synthetic(count: 8, seed: 42))
        for bad in ["synthetic:", "synthetic:0", "synthetic:-3", "synthetic:x", "synthetic:4:seed", "synthetic:4:1:2"] {
            XCTAssertThrowsError(try DataSource.parse(bad), bad)
        }
    }

    func testPathsAndFolderKinds() throws {
        let folder = try DatasetTestFolder()
        try folder.copy("preprocess/tiny.png", to: "flat/a.png")
        try folder.copy("preprocess/tiny.png", to: "classes/cat/a.png")
        try folder.copy("preprocess/tiny.png", to: "classes/dog/b.png")
        try folder.write(Data("x".utf8), to: "classes/.DS_Store")
        try folder.copy("npy/f32_2x3.npy", to: "inputs.npy")
        try folder.write(Data("x".utf8), to: "notes.txt")
        XCTAssertEqual(try DataSource.parse(folder.path + "/flat"), .imageFolder(path: folder.path + "/flat"))
        XCTAssertEqual(try DataSource.parse(folder.path + "/classes"), .classFolders(path: folder.path + "/classes"))
        XCTAssertEqual(try DataSource.parse(folder.path + "/inputs.npy"), .npy(path: folder.path + "/inputs.npy"))
        XCTAssertThrowsError(try DataSource.parse(folder.path + "/notes.txt"))
        XCTAssertThrowsError(try DataSource.parse(folder.path + "/missing")) { error in
            XCTAssertTrue("\(error)".contains("missing"), "\(error)")
        }
    }
}
