import Foundation
import Influence
import TestSupport
import XCTest
import Support

/// `plan` at its edges: a target the report's items cannot reach is refused up front with the
/// best reachable fraction; without --data it says nothing was verified; its progress prints
/// the metric the limit bounds.
final class PlanEdgeTests: XCTestCase {
    let model = FixturePaths.path("models/tiny_resnet.onnx")
    let data = FixturePaths.path("models/tiny_resnet.input.npy")

    func testAnUnreachableTargetIsRefusedWithTheBestFraction() throws {
        let folder = try temporaryFolder(self)
        let report = folder + "/r.json"
        XCTAssertEqual(weakspot("profile", model, "--data", data, "--items", "groups", "--layers", "/layer2/conv1/*", "-o", report, "--quiet").code, 0)
        let refused = weakspot("plan", model, report, "--target", "macs=0.3", "-o", folder + "/p.json", "--quiet")
        XCTAssertEqual(refused.code, 2, refused.output)
        XCTAssertTrue(refused.error.contains("--target macs=0.3: cannot be reached with the report's items"), refused.error)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/p.json"))
        let best = try XCTUnwrap(refused.error.range(of: #"keeps (0\.\d{4}) at best"#, options: .regularExpression).map { refused.error[$0] }
            .flatMap { Double($0.dropFirst("keeps ".count).prefix(6)) })
        XCTAssertGreaterThan(best, 0.3)
        XCTAssertLessThan(best, 1)
        // Just above the best fraction is reachable, and then met.
        let reachable = weakspot("plan", model, report, "--target", "macs=\(best + 0.0001)", "-o", folder + "/p.json", "--quiet")
        XCTAssertEqual(reachable.code, 0, reachable.error)
        let plan = try JSONValue.parse(String(contentsOfFile: folder + "/p.json", encoding: .utf8))
        XCTAssertEqual(plan["targetMet"]?.boolValue, true)
        let kept = Double(try XCTUnwrap(plan["macsAfter"]?.intValue)) / Double(try XCTUnwrap(plan["macsBefore"]?.intValue))
        XCTAssertEqual(kept, best, accuracy: 0.00015)
    }

    func testUnverifiedWarningAndTheLimitsMetricInProgress() throws {
        let folder = try temporaryFolder(self)
        let report = folder + "/r.json"
        XCTAssertEqual(weakspot("profile", model, "--data", data, "--items", "groups", "-o", report, "--quiet").code, 0)
        let unverified = weakspot("plan", model, report, "--target", "macs=0.9", "-o", folder + "/p.json")
        XCTAssertEqual(unverified.code, 0, unverified.error)
        XCTAssertTrue(unverified.error.contains("warning: no --data: nothing was verified"), unverified.error)
        let verified = weakspot("plan", model, report, "--target", "macs=0.5", "--max-top1", "0.25", "--data", data, "-o", folder + "/p.json")
        XCTAssertEqual(verified.code, 0, verified.error)
        XCTAssertFalse(verified.error.contains("nothing was verified"), verified.error)
        let measuredLines = verified.error.split(separator: "\n").filter { $0.hasPrefix("plan: measured ") || $0.hasPrefix("plan: limits: ") }
        XCTAssertGreaterThan(measuredLines.count, 0, verified.error)
        for line in measuredLines {
            XCTAssertTrue(line.contains(" top1 ") && !line.contains(" kl "), String(line))
        }
    }
}
