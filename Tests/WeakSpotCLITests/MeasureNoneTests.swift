import Foundation
import Influence
import Support
import TestSupport
import XCTest

/// `profile --measure none` (issue 18, item 7): estimator scores without the measurement. Its
/// scores must be the full profile's exactly, its report schema-valid with every measured field
/// null, the commands that act on influence must refuse it (exit 2), and `plan --criterion
/// l1|taylor` must plan from it what it plans from the full report.
final class MeasureNoneTests: XCTestCase {
    static let model = FixturePaths.path("models/tiny_resnet.onnx")
    static let inputs = FixturePaths.path("models/tiny_resnet.input.npy")
    static let estimators = "l1,l2,bn,apoz,meanact,taylor"

    /// Profiles the tiny ResNet (channels and groups, labels, batch 2 so that activation and
    /// Taylor sums run over several batches) with `extra` options; returns the parsed report.
    func profile(_ folder: String, name: String, _ extra: [String]) throws -> (path: String, report: JSONValue) {
        let path = folder + "/" + name
        let result = weakspot(["profile", Self.model, "--data", Self.inputs, "--items", "channels,groups", "--estimators", Self.estimators,
                               "--labels", folder + "/labels.txt", "--batch", "2", "-o", path, "--quiet"] + extra)
        XCTAssertEqual(result.code, 0, result.error)
        let report = try JSONValue.parse(try String(contentsOfFile: path, encoding: .utf8))
        XCTAssertEqual(ReportSchema.validator.violations(of: report), [], "\(name) breaks the report schema")
        return (path, report)
    }

    func labelledFolder() throws -> String {
        let folder = try temporaryFolder(self)
        try "0\n1\n0\n1\n".write(toFile: folder + "/labels.txt", atomically: true, encoding: .utf8)
        return folder
    }

    func testEstimatorScoresEqualTheFullProfilesAndNothingMeasuredIsWritten() throws {
        let folder = try labelledFolder()
        let full = try profile(folder, name: "full.json", [])
        let none = try profile(folder, name: "none.json", ["--measure", "none"])
        XCTAssertEqual(none.report["settings"]?["measure"], "none")
        XCTAssertEqual(full.report["settings"]?["measure"], "influence")
        let fullItems = try XCTUnwrap(full.report["items"]?.arrayValue), noneItems = try XCTUnwrap(none.report["items"]?.arrayValue)
        XCTAssertEqual(noneItems.count, fullItems.count)
        XCTAssertGreaterThan(noneItems.count, 100)
        var scored: [String: Int] = [:]
        for (a, b) in zip(noneItems, fullItems) {
            XCTAssertEqual(a["id"], b["id"])
            XCTAssertEqual(a["estimators"], b["estimators"], "\(a["id"]?.stringValue ?? "?"): estimator scores differ from the full profile's")
            for key in a["estimators"]?.objectValue?.keys.sorted() ?? [] { scored[key, default: 0] += 1 }
            for key in ["influence", "metrics", "rank", "weak", "latent"] {
                XCTAssertEqual(a[key], .null, "\(a["id"]?.stringValue ?? "?").\(key) should be null without a measurement")
            }
        }
        // Every estimator was computed for the channels (and taylor, l1, l2 for groups too): the
        // comparison above compared numbers, not empty objects.
        for estimator in Self.estimators.split(separator: ",") {
            XCTAssertGreaterThanOrEqual(scored[String(estimator)] ?? 0, 96, "\(estimator) scores missing")
        }
        XCTAssertEqual(none.report["agreement"], .object([:]))
        XCTAssertEqual(none.report["summary"]?["weak"], .null)
        XCTAssertEqual(none.report["baseline"], full.report["baseline"])
        XCTAssertEqual(none.report["warnings"]?.arrayValue?.count, 1)
    }

    func testNothingToComputeAndMeasurementOnlyOptionsAreRefused() throws {
        let folder = try temporaryFolder(self)
        let base = ["profile", Self.model, "--data", Self.inputs, "--measure", "none", "-o", folder + "/r.json", "--quiet"]
        for (extra, expected) in [([], "give --estimators"), (["--estimators", "l1", "--adaptive"], "--adaptive"),
                                  (["--estimators", "l1", "--items", "layers"], "channels and groups only"),
                                  (["--estimators", "l1", "--html", folder + "/r.html"], "--html"),
                                  (["--estimators", "l1", "--shard", "1/2"], "--shard")] {
            let result = weakspot(base + extra)
            XCTAssertEqual(result.code, 2, "\(extra): \(result.error)")
            XCTAssertTrue(result.error.contains(expected), "\(extra): \(result.error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/r.json"))
    }

    func testCommandsActingOnInfluenceRefuseTheReport() throws {
        let folder = try labelledFolder()
        let none = try profile(folder, name: "none.json", ["--measure", "none"])
        for arguments in [["rank", none.path], ["gate", none.path, "--max-weak-fraction", "0.5"], ["merge", none.path, "-o", folder + "/m.json"],
                          ["plan", Self.model, none.path, "--target", "macs=0.8", "-o", folder + "/p.json"]] {
            let result = weakspot(arguments)
            XCTAssertEqual(result.code, 2, "\(arguments[0]): \(result.error)")
            XCTAssertTrue(result.error.contains("--measure none"), "\(arguments[0]): \(result.error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/m.json"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/p.json"))
    }

    /// The plan from the estimator-only report equals the plan from the full report, apart from
    /// the report's path and `predicted` (the sum of the report's measured single removals, which
    /// a `--measure none` report does not have: null there).
    func testPlanByAnEstimatorIsTheSameFromEitherReport() throws {
        let folder = try labelledFolder()
        let full = try profile(folder, name: "full.json", [])
        let none = try profile(folder, name: "none.json", ["--measure", "none"])
        for criterion in [["--criterion", "l1"], ["--criterion", "taylor", "--data", Self.inputs, "--labels", folder + "/labels.txt"]] {
            var plans: [JSONValue] = []
            for report in [full.path, none.path] {
                let out = folder + "/plan-\(criterion[1])-\(plans.count).json"
                let result = weakspot(["plan", Self.model, report, "--target", "macs=0.8", "-o", out, "--quiet"] + criterion)
                XCTAssertEqual(result.code, 0, result.error)
                plans.append(try JSONValue.parse(try String(contentsOfFile: out, encoding: .utf8)))
            }
            XCTAssertNotEqual(plans[0]["predicted"], .null, "the full report predicts from its measurements")
            XCTAssertEqual(plans[1]["predicted"], .null, "nothing measured, nothing predicted")
            XCTAssertGreaterThan(plans[0]["groups"]?.arrayValue?.count ?? 0, 0, "\(criterion[1]): the plan removes nothing")
            func comparable(_ plan: JSONValue) -> JSONValue {
                guard case .object(var o) = plan, case .object(var settings)? = o["settings"] else { return plan }
                settings["report"] = nil
                o["settings"] = .object(settings)
                o["predicted"] = nil
                return .object(o)
            }
            XCTAssertEqual(comparable(plans[0]), comparable(plans[1]), "--criterion \(criterion[1])")
        }
    }
}
