import Foundation
import Influence
import TestSupport
import XCTest
import Support

/// A report from fewer than 8 inputs says its intervals are not meaningful (JSON `warnings`,
/// the terminal summary, the HTML page); an item measured on one input is never weak.
final class FewInputsTests: XCTestCase {
    let model = FixturePaths.path("models/tiny_resnet.onnx")

    func profile(_ data: String, folder: String) throws -> (report: JSONValue, result: CLIResult) {
        let result = weakspot("profile", model, "--data", data, "-o", folder + "/r.json", "--html", folder + "/r.html", "--quiet")
        XCTAssertEqual(result.code, 0, result.error)
        return (try JSONValue.parse(String(contentsOfFile: folder + "/r.json", encoding: .utf8)), result)
    }

    func testOneInputWarnsAndMarksNothingWeak() throws {
        let folder = try temporaryFolder(self)
        let (report, result) = try profile("synthetic:1", folder: folder)
        let items = try XCTUnwrap(report["items"]?.arrayValue)
        XCTAssertGreaterThan(items.count, 10)
        XCTAssertTrue(items.allSatisfy { $0["influence"]?["n"]?.intValue == 1 })
        XCTAssertEqual(items.filter { $0["weak"]?.boolValue == true }.count, 0, "weak needs an interval from 2 inputs or more")
        XCTAssertEqual(report["summary"]?["weak"]?.intValue, 0)
        let warnings = try XCTUnwrap(report["warnings"]?.arrayValue?.compactMap(\.stringValue))
        XCTAssertEqual(warnings.count, 2, "\(warnings)")
        XCTAssertTrue(warnings[0].hasPrefix("the intervals are not meaningful: measured on 1 input,"), warnings[0])
        XCTAssertTrue(warnings[1].hasPrefix("\(items.count) items were measured on fewer than 2 inputs"), warnings[1])
        XCTAssertTrue(result.output.contains("warning: the intervals are not meaningful"), result.output)
        let page = try String(contentsOfFile: folder + "/r.html", encoding: .utf8)
        XCTAssertTrue(page.contains("<ul class=\"warnings\"><li>Warning: the intervals are not meaningful"), String(page.prefix(2000)))
        XCTAssertEqual(weakspot("rank", folder + "/r.json").code, 0, "the schema accepts warnings")
    }

    func testFourInputsWarnEightDoNot() throws {
        let folder = try temporaryFolder(self)
        let (few, _) = try profile("synthetic:4", folder: folder)
        XCTAssertEqual(few["warnings"]?.arrayValue?.count, 1)
        XCTAssertTrue(few["warnings"]?.arrayValue?.first?.stringValue?.contains("measured on 4 inputs, fewer than 8") == true)
        let (enough, result) = try profile("synthetic:8", folder: folder)
        XCTAssertEqual(enough["warnings"], .array([]))
        XCTAssertFalse(result.output.contains("warning:"), result.output)
        XCTAssertFalse(try String(contentsOfFile: folder + "/r.html", encoding: .utf8).contains("class=\"warnings\""))
    }

    func testWarningsMustBeStrings() throws {
        let folder = try temporaryFolder(self)
        _ = try profile("synthetic:2", folder: folder)
        let path = folder + "/r.json"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.contains("\"warnings\": ["), String(text.prefix(500)))
        try text.replacingOccurrences(of: "\"warnings\": [", with: "\"warnings\": [1, ").write(toFile: path, atomically: true, encoding: .utf8)
        let result = weakspot("rank", path)
        XCTAssertEqual(result.code, 2)
        XCTAssertTrue(result.error.contains("$.warnings[0]: expected string"), result.error)
    }
}
