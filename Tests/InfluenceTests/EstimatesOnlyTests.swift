import Foundation
import Influence
import Support
import TestSupport
import XCTest

/// `ProfileOptions.measurement = .estimatesOnly` (`--measure none`) through the library: the
/// session perturbs no item, yet every estimator score equals the one a full profile computes on
/// the same batches, and the typed `Report` reads it as unmeasured.
final class EstimatesOnlyTests: XCTestCase {
    func testScoresEqualTheMeasuredRunsAndTheReportSaysNothingWasMeasured() throws {
        let graph = try ProfileFixtures.graph("models/tiny_resnet.onnx")
        let x = try ProfileFixtures.tensor("models/tiny_resnet.input.npy")
        var options = ProfileOptions()
        options.kinds = [.channel, .group]
        options.estimators = [.l1, .l2, .bn, .apoz, .meanact, .taylor]
        options.batchSize = 3
        options.bootstrapResamples = 10
        let measured = try ProfileFixtures.report(graph: graph, input: x, options: options, labels: [0, 1, 0, 1])
        options.measurement = .estimatesOnly
        let started = Date()
        let estimated = try ProfileFixtures.report(graph: graph, input: x, options: options, labels: [0, 1, 0, 1])
        let seconds = Date().timeIntervalSince(started)
        let a = try XCTUnwrap(measured["items"]?.arrayValue), b = try XCTUnwrap(estimated["items"]?.arrayValue)
        XCTAssertEqual(a.count, b.count)
        var compared = 0
        for (m, e) in zip(a, b) {
            XCTAssertEqual(m["id"], e["id"])
            XCTAssertEqual(m["estimators"], e["estimators"])
            compared += e["estimators"]?.objectValue?.count ?? 0
            XCTAssertEqual(e["influence"], .null)
        }
        XCTAssertGreaterThan(compared, 6 * 96, "every channel carries its scores")
        let report = try Report(json: estimated)
        XCTAssertFalse(report.measured)
        XCTAssertNil(report.weakCount)
        XCTAssertThrowsError(try report.requireMeasured(by: "rank"))
        XCTAssertTrue(try Report(json: measured).measured)
        XCTAssertLessThan(seconds, 30, "no item was perturbed")
    }

    /// A report that claims `--measure none` but carries a measured item (or the reverse) is refused.
    func testAMixedReportIsRefused() throws {
        let graph = try ProfileFixtures.graph("models/tiny_resnet.onnx")
        let x = try ProfileFixtures.tensor("models/tiny_resnet.input.npy")
        var options = ProfileOptions()
        options.estimators = [.l1]
        options.bootstrapResamples = 10
        let measured = try ProfileFixtures.report(graph: graph, input: x, options: options)
        guard case .object(var o) = measured, case .object(var settings)? = o["settings"] else { return XCTFail("expected an object") }
        settings["measure"] = "none"
        o["settings"] = .object(settings)
        XCTAssertThrowsError(try Report(json: .object(o))) { error in
            XCTAssertTrue("\(error)".contains("null influence"), "\(error)")
        }
    }
}
