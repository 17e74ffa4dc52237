import DataInput
import Foundation
import Influence
import Support
import TestSupport
import XCTest

/// `weakspot demo` writes its files and agrees with ONNX Runtime and the reference counts.
final class DemoTests: XCTestCase {
    func testDemoWritesItsFiles() throws {
        let folder = try temporaryFolder(self) + "/nested/out"
        let result = weakspot("demo", "--out", folder)
        XCTAssertEqual(result.code, 0, result.error)
        for name in ["count.json", "logits.npy", "predictions.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/" + name), name)
            XCTAssertTrue(result.output.contains(folder + "/" + name), name)
        }
        let counts = try parseJSON(String(decoding: try FixturePaths.data("models/counts.json"), as: UTF8.self))
        let reference = try XCTUnwrap(counts["efficientnet_lite0"] as? [String: Any])
        let count = try parseJSON(try String(contentsOfFile: folder + "/count.json", encoding: .utf8))
        let totals = try XCTUnwrap(count["totals"] as? [String: Any])
        XCTAssertEqual(totals["params"] as? Int, reference["params"] as? Int)
        XCTAssertEqual(totals["macs"] as? Int, reference["macs"] as? Int)

        let logits = try NPYArray.read(path: folder + "/logits.npy")
        let expected = try NPYArray.read(path: FixturePaths.path("demo/efficientnet_lite0.logits.npy"))
        if let problem = mismatch(logits.floats(), expected.floats(), .relativeToPeak(1e-4)) { XCTFail(problem) }

        for line in ["01_chelsea.jpg", "Egyptian cat", "espresso", "moped"] {
            XCTAssertTrue(result.output.contains(line), line)
        }
        // The profile stage writes a report that names the weakest channels.
        XCTAssertTrue(result.output.contains("weakest:"), result.output)
        let report = try validatedReport(folder + "/report.json")
        XCTAssertEqual(report["schema"]?.stringValue, "weakspot.report/1")
        XCTAssertEqual(report["items"]?.arrayValue?.filter { $0["kind"]?.stringValue == "channel" }.count, 3904)
        XCTAssertEqual(report["items"]?.arrayValue?.filter { $0["kind"]?.stringValue == "layer" }.count, 4)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/report.csv"))
        let page = try String(contentsOfFile: folder + "/report.html", encoding: .utf8)
        XCTAssertLessThan(page.utf8.count, 3_000_000)
        XCTAssertEqual(try HTMLPageOutline(page).charts("scatter").count, 6, "one scatter per estimator")
        // Plan, prune and gate ran: the plan validates its target, the pruned model is smaller.
        let plan = try JSONValue.parse(String(contentsOfFile: folder + "/plan.json", encoding: .utf8))
        XCTAssertEqual(plan["schema"]?.stringValue, "weakspot.plan/1")
        let before = try XCTUnwrap(plan["macsBefore"]?.intValue), after = try XCTUnwrap(plan["macsAfter"]?.intValue)
        XCTAssertLessThanOrEqual(Double(after), 0.95 * Double(before))
        XCTAssertNotNil(plan["measured"]?["kl"]?.doubleValue)
        let prunedCount = weakspot("count", folder + "/pruned.onnx", "--format", "json")
        XCTAssertEqual(prunedCount.code, 0, prunedCount.error)
        XCTAssertEqual(try JSONValue.parse(prunedCount.output)["totals"]?["macs"]?.intValue, after)
        XCTAssertTrue(result.output.contains("gate: passed (exit 0)"), result.output)
    }

    func testOutputPathThatIsAFile() throws {
        let file = try temporaryFolder(self) + "/file"
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let result = weakspot("demo", "--out", file)
        XCTAssertEqual(result.code, 2)
        XCTAssertEqual(result.error, "error: \(file): expected a folder for the output files, got a file\n")
    }
}
