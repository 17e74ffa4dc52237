import Foundation
import Support
import TestSupport
import XCTest

/// `weakspot plan --export-torch FILE --export-nni FILE` on the tiny torch exports
/// (Fixtures/torch_bridge): both files written beside plan.json; an export whose layers cannot
/// be named in PyTorch is refused with exit 2 naming the layer, and nothing is written.
final class TorchExportCommandTests: XCTestCase {
    func plan(_ name: String, in folder: String, extra: [String] = []) -> CLIResult {
        let model = FixturePaths.path("torch_bridge/\(name).onnx")
        let report = folder + "/\(name).report.json"
        let profile = weakspot("profile", model, "--data", FixturePaths.path("torch_bridge/input.npy"), "--items", "groups", "-o", report, "--quiet")
        XCTAssertEqual(profile.code, 0, profile.error)
        return weakspot(["plan", model, report, "--target", "macs=0.7", "--quiet", "-o", folder + "/\(name).plan.json"] + extra)
    }

    func testBothExportsAreWrittenWithTheModulesOfTheFixture() throws {
        let folder = try temporaryFolder(self)
        let modules = try JSONValue.parse(String(contentsOfFile: FixturePaths.path("torch_bridge/modules.json"), encoding: .utf8))
        let known = Set((modules["tiny_dynamo"]?.objectValue ?? [:]).values.compactMap(\.stringValue))
        // A folder gets the default file name.
        let result = plan("tiny_dynamo", in: folder, extra: ["--export-torch", folder + "/t.json", "--export-nni", folder])
        XCTAssertEqual(result.code, 0, result.error)
        let torch = try JSONValue.parse(String(contentsOfFile: folder + "/t.json", encoding: .utf8))
        XCTAssertEqual(torch["schema"]?.stringValue, "weakspot.torch-prune/1")
        let entries = try XCTUnwrap(torch["groups"]?.arrayValue)
        XCTAssertFalse(entries.isEmpty)
        let plan = try JSONValue.parse(String(contentsOfFile: folder + "/tiny_dynamo.plan.json", encoding: .utf8))
        XCTAssertEqual(entries.count, plan["groups"]?.arrayValue?.count, "one entry per pruned layer group of plan.json")
        for entry in entries {
            XCTAssertTrue(known.contains(entry["module"]?.stringValue ?? ""), "\(entry)")
            XCTAssertFalse(entry["remove"]?.arrayValue?.isEmpty ?? true)
        }
        let nni = try XCTUnwrap(try JSONValue.parse(String(contentsOfFile: folder + "/nni-config.json", encoding: .utf8)).arrayValue)
        XCTAssertTrue(nni.allSatisfy { known.contains($0["op_names"]?.arrayValue?.first?.stringValue ?? "") && ($0["sparse_ratio"]?.doubleValue ?? 0) > 0 })
    }

    func testAnUnmappableExportIsRefusedNamingTheLayer() throws {
        let folder = try temporaryFolder(self)
        let result = plan("tiny_renamed", in: folder, extra: ["--export-torch", folder + "/t.json"])
        XCTAssertEqual(result.code, 2, result.output + result.error)
        XCTAssertTrue(result.error.contains("cannot export the plan to PyTorch"), result.error)
        XCTAssertTrue(result.error.contains("node n"), result.error)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/t.json"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/tiny_renamed.plan.json"), "nothing is written")
        // Without the export the same plan is made.
        XCTAssertEqual(plan("tiny_renamed", in: folder).code, 0)
        // Two outputs cannot share standard output.
        let both = plan("tiny_dynamo", in: folder, extra: ["--export-torch", "-", "--export-nni", "-"])
        XCTAssertEqual(both.code, 2, both.error)
        XCTAssertTrue(both.error.contains("only one output can go to standard output"), both.error)
    }
}
