import Foundation
import Influence
import Planning
import Support
import TestSupport
import XCTest

/// `weakspot plan` and `weakspot gate` through the command line: a measured plan on a residual
/// model, its pruned model's size, every gate exit code, and hostile inputs.
final class PlanGateCommandTests: XCTestCase {
    let model = FixturePaths.path("models/tiny_resnet.onnx")
    let data = FixturePaths.path("models/tiny_resnet.input.npy")

    func planned(target: String = "macs=0.6", extra: [String] = []) throws -> (folder: String, plan: String) {
        let folder = try temporaryFolder(self)
        let report = folder + "/r.json", plan = folder + "/plan.json"
        XCTAssertEqual(weakspot("profile", model, "--data", data, "--items", "groups", "-o", report, "--quiet").code, 0)
        let result = weakspot(["plan", model, report, "--target", target, "--data", data, "-o", plan, "--quiet"] + extra)
        XCTAssertEqual(result.code, 0, result.error)
        XCTAssertTrue(result.output.contains("Feng et al. 2024"), result.output)
        return (folder, plan)
    }

    /// plan.json is written and read through one mapping: reading a written plan and writing
    /// it again gives the same bytes; a plan without a field the gate needs names it.
    func testPlanReadsBackToTheSameBytes() throws {
        let (folder, plan) = try planned()
        let text = try String(contentsOfFile: plan, encoding: .utf8)
        let document = try JSONValue.parse(text)
        let typed = try Plan(json: document)
        XCTAssertFalse(typed.layers.isEmpty)
        XCTAssertEqual(typed.json.rendered(oneLineFrom: 2), text)
        XCTAssertEqual(try Plan.groups(of: document), typed.groups)
        var broken = try XCTUnwrap(document.objectValue)
        broken["layers"] = .array([.object(["name": "conv", "op": "Conv"])])
        try JSONValue.object(broken).rendered().write(toFile: folder + "/broken.json", atomically: true, encoding: .utf8)
        let gate = weakspot("gate", folder + "/broken.json", "--min-macs-saved", "0")
        XCTAssertEqual(gate.code, 2, gate.output)
        XCTAssertTrue(gate.error.contains(folder + "/broken.json") && gate.error.contains("layers[0].channelsBefore"), gate.error)
    }

    func testPlanPruneCountAgree() throws {
        let (folder, plan) = try planned()
        let document = try JSONValue.parse(String(contentsOfFile: plan, encoding: .utf8))
        XCTAssertEqual(document["schema"]?.stringValue, "weakspot.plan/1")
        let before = try XCTUnwrap(document["macsBefore"]?.intValue), after = try XCTUnwrap(document["macsAfter"]?.intValue)
        XCTAssertLessThanOrEqual(Double(after), 0.6 * Double(before))
        XCTAssertEqual(document["targetMet"]?.boolValue, true)
        for key in ["kl", "mse", "top1"] {
            XCTAssertNotNil(document["predicted"]?[key]?.doubleValue, key)
            XCTAssertNotNil(document["measured"]?[key]?.doubleValue, key)
        }
        XCTAssertEqual(weakspot("prune", model, plan, "-o", folder + "/p.onnx").code, 0)
        let count = weakspot("count", folder + "/p.onnx", "--format", "json")
        XCTAssertEqual(try JSONValue.parse(count.output)["totals"]?["macs"]?.intValue, after)
        XCTAssertEqual(try JSONValue.parse(count.output)["totals"]?["params"]?.intValue, document["paramsAfter"]?.intValue)
    }

    func testLimitBacksOffAndGateFails() throws {
        let (_, plan) = try planned(target: "macs=0.3", extra: ["--max-kl", "0.01"])
        let document = try JSONValue.parse(String(contentsOfFile: plan, encoding: .utf8))
        XCTAssertLessThanOrEqual(try XCTUnwrap(document["measured"]?["kl"]?.doubleValue), 0.01)
        XCTAssertEqual(document["targetMet"]?.boolValue, false)
        XCTAssertEqual(document["backedOff"]?.boolValue, true)

        let failed = weakspot("gate", plan, "--min-macs-saved", "0.7", "--max-kl", "0.01", "--require-target")
        XCTAssertEqual(failed.code, 1)
        let lines = failed.output.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.filter { $0.hasPrefix("FAIL") }.count, 2, failed.output)
        XCTAssertTrue(lines[0].hasPrefix("FAIL"), "failures first: \(failed.output)")
        XCTAssertTrue(failed.output.contains("ok   measured kl"), failed.output)
        let json = weakspot("gate", plan, "--min-macs-saved", "0.7", "--json")
        XCTAssertEqual(json.code, 1)
        let parsed = try JSONValue.parse(json.output)
        XCTAssertEqual(parsed["pass"]?.boolValue, false)
        XCTAssertEqual(parsed["checks"]?.arrayValue?.first?["name"]?.stringValue, "MACs saved")
        XCTAssertEqual(weakspot("gate", plan, "--max-kl", "0.01").code, 0)
    }

    func testGateOnAReport() throws {
        let folder = try temporaryFolder(self)
        let report = folder + "/r.json"
        XCTAssertEqual(weakspot("profile", model, "--data", data, "--estimators", "l1", "-o", report, "--quiet").code, 0)
        XCTAssertEqual(weakspot("gate", report, "--max-weak-fraction", "1").code, 0)
        let document = try JSONValue.parse(String(contentsOfFile: report, encoding: .utf8))
        let items = try XCTUnwrap(document["items"]?.arrayValue)
        let weak = Double(items.filter { $0["weak"]?.boolValue == true }.count) / Double(items.count)
        let rho = try XCTUnwrap(document["agreement"]?["l1"]?["spearman"]?.doubleValue)
        XCTAssertEqual(weakspot("gate", report, "--min-weak-fraction", "1").code, weak < 1 ? 1 : 0)
        XCTAssertEqual(weakspot("gate", report, "--min-spearman", "1").code, rho < 1 ? 1 : 0)
        XCTAssertEqual(weakspot("gate", report, "--min-weak-fraction", "1.01").code, 2, "a threshold no report can meet is a usage error")
        XCTAssertEqual(weakspot("gate", report, "--max-kl", "0.1").code, 2, "a plan threshold on a report")
    }

    func testBadInputsExitTwo() throws {
        let (folder, plan) = try planned()
        let report = folder + "/r.json"
        let cases: [[String]] = [
            ["plan", model, report, "--data", data],  // no target, no limit
            ["plan", model, report, "--target", "macs=1.5"],
            ["plan", model, report, "--target", "macs=0.5", "--steps", "3"],
            ["plan", model, report, "--target", "macs=0.5", "--max-kl", "0.1"],  // a limit needs --data
            ["plan", model, report, "--target", "macs=0.5", "--uniform"],  // uniform needs an estimator
            ["plan", model, folder + "/missing.json", "--target", "macs=0.5"],
            ["plan", FixturePaths.path("models/tiny_concat.onnx"), report, "--target", "macs=0.5"],  // another model's report
            ["gate", plan],  // no threshold
            ["gate", folder + "/missing.json", "--max-kl", "1"],
            ["gate", report + ".nope", "--max-kl", "1"],
        ]
        for arguments in cases {
            let result = weakspot(arguments)
            XCTAssertEqual(result.code, 2, "\(arguments): \(result.output) \(result.error)")
            XCTAssertTrue(result.error.hasPrefix("error: "), "\(arguments): \(result.error)")
        }
        try Data(#"{"schema": "weakspot.plan/1"}"#.utf8).write(to: URL(fileURLWithPath: folder + "/empty.json"))
        let empty = weakspot("gate", folder + "/empty.json", "--max-kl", "1")
        XCTAssertEqual(empty.code, 2)
        XCTAssertTrue(empty.error.contains(folder + "/empty.json") && empty.error.contains("macsBefore"), empty.error)
    }

    func testLatencyTargetIsMeasured() throws {
        let (_, plan) = try planned(target: "latency=0.9")
        let document = try JSONValue.parse(String(contentsOfFile: plan, encoding: .utf8))
        let before = try XCTUnwrap(document["latencyBeforeMs"]?.doubleValue), after = try XCTUnwrap(document["latencyAfterMs"]?.doubleValue)
        XCTAssertGreaterThan(before, 0)
        XCTAssertGreaterThan(after, 0)
        XCTAssertEqual(document["settings"]?["target"]?.stringValue, "latency=0.9")
        XCTAssertEqual(document["targetMet"]?.boolValue, after <= 0.9 * before)
    }
}
