import Foundation
import Influence
import Support
import TestSupport
import XCTest

/// `--html FILE` on profile and merge: a well-formed page beside the report, and an unwritable
/// page path refused before measuring.
final class HTMLOutputTests: XCTestCase {
    let model = FixturePaths.path("models/tiny_resnet.onnx")
    let data = FixturePaths.path("models/tiny_resnet.input.npy")

    func testProfileAndMergeWriteThePage() throws {
        let folder = try temporaryFolder(self)
        let result = weakspot("profile", model, "--data", data, "--estimators", "l1", "--bootstrap", "100",
                              "-o", folder + "/r.json", "--html", folder + "/r.html", "--quiet")
        XCTAssertEqual(result.code, 0, result.error)
        let page = try String(contentsOfFile: folder + "/r.html", encoding: .utf8)
        XCTAssertTrue(page.hasPrefix("<!DOCTYPE html>"))
        let outline = try HTMLPageOutline(page)
        let report = try JSONValue.parse(String(contentsOfFile: folder + "/r.json", encoding: .utf8))
        XCTAssertEqual(outline.charts("scatter").first?.attributes["data-items"], String(report["items"]?.arrayValue?.count ?? -1))
        XCTAssertTrue(outline.text.contains(model), "the header names the model file")

        let merged = weakspot("merge", folder + "/r.json", "-o", folder + "/m.json", "--html", folder + "/m.html")
        XCTAssertEqual(merged.code, 0, merged.error)
        XCTAssertNoThrow(try HTMLPageOutline(String(contentsOfFile: folder + "/m.html", encoding: .utf8)))
    }

    func testUnwritablePageIsRefusedFirst() {
        let result = weakspot("profile", model, "--data", data, "--html", "/nonexistent-folder/r.html", "--quiet")
        XCTAssertEqual(result.code, 2)
        XCTAssertEqual(result.error, "error: /nonexistent-folder/r.html: cannot write the file: the folder /nonexistent-folder does not exist\n")
    }
}
