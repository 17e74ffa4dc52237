import Foundation
import TestSupport
import XCTest

/// `--data FOLDER`: upper-case extensions are read; what is not read (hidden files, other
/// extensions, sub-folders of an image folder) is said on standard error and listed in the
/// report; a folder with no image is an error naming the folder and what it holds.
final class DataFolderTests: XCTestCase {
    let model = FixturePaths.path("models/tiny_resnet.onnx")

    func testSkippedEntriesAreReportedAndUpperCaseIsRead() throws {
        let folder = try copyOfDemoImages(self)
        let images = try FileManager.default.contentsOfDirectory(atPath: folder).count
        XCTAssertEqual(images, 9)
        try FileManager.default.copyItem(atPath: folder + "/01_chelsea.jpg", toPath: folder + "/10_CHELSEA.JPG")
        try Data("notes".utf8).write(to: URL(fileURLWithPath: folder + "/notes.txt"))
        try Data().write(to: URL(fileURLWithPath: folder + "/.DS_Store"))
        try FileManager.default.createDirectory(atPath: folder + "/extra", withIntermediateDirectories: false)

        let run = weakspot("run", model, "--data", folder, "--format", "json", "--quiet")
        XCTAssertEqual(run.code, 0, run.error)
        let predictions = try XCTUnwrap(try parseJSON(run.output)["predictions"] as? [Any])
        XCTAssertEqual(predictions.count, images + 1, "the .JPG copy is read")
        XCTAssertTrue(run.error.contains("read 10 images; not read: 1 × hidden, 1 × a sub-folder, 1 × not an image (.txt)"), run.error)

        let out = try temporaryFolder(self) + "/r.json"
        let profile = weakspot("profile", model, "--data", folder, "--layers", "/layer1/*", "-o", out, "--quiet")
        XCTAssertEqual(profile.code, 0, profile.error)
        let data = try XCTUnwrap(try parseJSON(try String(contentsOfFile: out, encoding: .utf8))["data"] as? [String: Any])
        let ignored = try XCTUnwrap(data["ignored"] as? [[String: String]])
        XCTAssertEqual(ignored.map { ($0["path"]! as NSString).lastPathComponent }, [".DS_Store", "extra", "notes.txt"])
        XCTAssertEqual(ignored.map { $0["reason"]! }.first, "hidden")
    }

    func testAFolderWithoutImagesNamesWhatItHolds() throws {
        let folder = try temporaryFolder(self)
        let empty = weakspot("run", model, "--data", folder)
        XCTAssertEqual(empty.code, 2)
        XCTAssertEqual(empty.error, "error: \(folder): expected image files (.png, .jpg, .jpeg, .ppm, .pgm, any case), found an empty folder\n")
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder + "/a.txt"))
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder + "/b.txt"))
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder + "/.hidden.png"))
        let other = weakspot("profile", model, "--data", folder, "-o", folder + "/r.json")
        XCTAssertEqual(other.code, 2)
        XCTAssertTrue(other.error.contains("found 1 × hidden, 2 × not an image (.txt)"), other.error)
    }
}
