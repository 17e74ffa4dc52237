import Foundation
import Influence
import TestSupport
import XCTest
import Support

/// `gate` tells a usage mistake (exit 2) from a failed threshold (exit 1): a CI job must not
/// read a typo as a regression. And `--kind` says which items a weak fraction counts.
final class GateUsageTests: XCTestCase {
    let model = FixturePaths.path("models/tiny_resnet.onnx")
    let data = FixturePaths.path("models/tiny_resnet.input.npy")

    func testUsageMistakesExitTwo() throws {
        let folder = try temporaryFolder(self)
        let report = folder + "/r.json", limited = folder + "/limited.json", unverified = folder + "/unverified.json"
        XCTAssertEqual(weakspot("profile", model, "--data", data, "--items", "groups", "--estimators", "l1", "-o", report, "--quiet").code, 0)
        let plan = weakspot("plan", model, report, "--max-kl", "0.01", "--data", data, "-o", limited, "--quiet")
        XCTAssertEqual(plan.code, 0, plan.error)
        XCTAssertEqual(weakspot("plan", model, report, "--target", "macs=0.9", "-o", unverified, "--quiet").code, 0)
        let cases: [([String], String)] = [
            ([report, "--min-spearman", "0.5", "--estimator", "taylr"], "--estimator"),
            ([report, "--min-spearman", "0.5", "--estimator", "bn"], "profile --estimators bn"),
            ([report, "--estimator", "l1"], "give --min-spearman too"),
            ([limited, "--require-target"], "planned without --target"),
            ([limited, "--max-top1", "-1"], "--max-top1: expected a number in [0, 1]"),
            ([limited, "--max-top1", "1.5"], "--max-top1"),
            ([limited, "--max-kl", "nan"], "--max-kl"),
            ([report, "--max-weak-fraction", "2"], "--max-weak-fraction"),
            ([report, "--min-spearman", "-3"], "--min-spearman"),
            ([report, "--max-kl", "0.1"], "applies to plans"),
            ([limited, "--max-weak-fraction", "0.1"], "applies to reports"),
            ([limited, "--kind", "channel", "--max-kl", "1"], "applies to reports"),
            ([report, "--require-target"], "applies to plans"),
            ([limited, "--max-klx", "0.1"], "--max-klx"),
            ([unverified, "--max-kl", "0.1"], "without --data"),
        ]
        for (arguments, expected) in cases {
            let result = weakspot(["gate"] + arguments)
            XCTAssertEqual(result.code, 2, "\(arguments): \(result.output) \(result.error)")
            XCTAssertTrue(result.error.hasPrefix("error: ") && result.error.contains(expected), "\(arguments): \(result.error)")
            XCTAssertFalse(result.output.contains("FAIL"), "\(arguments): \(result.output)")
        }
        // What a real failure looks like, for contrast.
        XCTAssertEqual(weakspot("gate", limited, "--min-macs-saved", "1").code, 1)
    }

    func testKindChoosesWhatTheWeakFractionCounts() throws {
        let folder = try temporaryFolder(self)
        let report = folder + "/r.json"
        XCTAssertEqual(weakspot("profile", model, "--data", data, "--items", "channels,layers", "-o", report, "--quiet").code, 0)
        let items = try XCTUnwrap(try JSONValue.parse(String(contentsOfFile: report, encoding: .utf8))["items"]?.arrayValue)
        let mixed = weakspot("gate", report, "--max-weak-fraction", "1")
        XCTAssertEqual(mixed.code, 2)
        XCTAssertTrue(mixed.error.contains("channel, layer items") && mixed.error.contains("--kind"), mixed.error)
        var checked = 0
        for kind in ["channel", "layer"] {
            let ofKind = items.filter { $0["kind"]?.stringValue == kind }
            XCTAssertGreaterThan(ofKind.count, 0, kind)
            let fraction = Double(ofKind.filter { $0["weak"]?.boolValue == true }.count) / Double(ofKind.count)
            let result = weakspot("gate", report, "--kind", kind + "s", "--max-weak-fraction", "1", "--json")
            XCTAssertEqual(result.code, 0, result.error)
            let check = try XCTUnwrap(try JSONValue.parse(result.output)["checks"]?.arrayValue?.first)
            XCTAssertEqual(check["value"]?.doubleValue, fraction, kind)
            XCTAssertEqual(check["name"]?.stringValue, "weak fraction of \(kind)s")
            checked += 1
        }
        XCTAssertEqual(checked, 2)
        let absent = weakspot("gate", report, "--kind", "tensor", "--max-weak-fraction", "1")
        XCTAssertEqual(absent.code, 2)
        XCTAssertTrue(absent.error.contains("not 'tensor'"), absent.error)
    }
}
