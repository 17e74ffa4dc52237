import Foundation
import Influence
import NetworkIR
import TestSupport
import XCTest

/// Rank correlations against hand-computed values, and the report's agreement and latent fields.
final class AgreementTests: XCTestCase {
    func testRankCorrelationsByHand() throws {
        // y reverses the order of x except the last pair: ranks x 1..5, y 5,4,3,1,2.
        let x: [Double] = [1, 2, 3, 4, 5], y: [Double] = [50, 40, 30, 10, 20]
        // Spearman: 1 − 6·Σd²/(n(n²−1)), d = (−4, −2, 0, 3, 3) → Σd² = 38 → 1 − 228/120 = −0.9.
        XCTAssertEqual(try XCTUnwrap(Agreement.spearman(x, y)), -0.9, accuracy: 1e-12)
        // Kendall: 10 pairs, 1 concordant (4,5), 9 discordant → (1 − 9)/10 = −0.8.
        XCTAssertEqual(try XCTUnwrap(Agreement.kendall(x, y)), -0.8, accuracy: 1e-12)
        // Ties: average ranks; τ-b with one tie in x.
        XCTAssertEqual(try XCTUnwrap(Agreement.spearman([1, 1, 2], [1, 2, 3])), 0.8660254037844387, accuracy: 1e-12)
        // Pairs: (0,1) tied in x; (0,2), (1,2) concordant → τ-b = 2 / √((2 + 1)·2) = 2/√6.
        XCTAssertEqual(try XCTUnwrap(Agreement.kendall([1, 1, 2], [1, 2, 3])), 2 / 6.0.squareRoot(), accuracy: 1e-12)
        XCTAssertNil(Agreement.spearman([1, 1, 1], [1, 2, 3]))
        XCTAssertEqual(Agreement.bottomOverlap([1, 2, 3, 4], [4, 3, 2, 1], k: 2), 0)
        XCTAssertEqual(Agreement.bottomOverlap([1, 2, 3, 4], [1, 3, 2, 4], k: 2), 0.5)
    }

    func testReportCarriesEstimatorsAgreementAndLatentItems() throws {
        let graph = try ProfileFixtures.graph("models/tiny_mobilenet.onnx")
        let x = try ProfileFixtures.tensor("models/tiny_mobilenet.input.npy")
        var options = ProfileOptions()
        options.kinds = [.channel, .group]
        options.estimators = [.l1, .l2, .bn]
        let report = try ProfileFixtures.report(graph: graph, input: x, options: options)
        let l1 = try XCTUnwrap(report["agreement"]?["l1"])
        XCTAssertEqual(l1["items"]?.stringValue, "channel")
        let rho = try XCTUnwrap(l1["spearman"]?.doubleValue)
        XCTAssertTrue(rho >= -1 && rho <= 1)
        XCTAssertNotNil(l1["perLayer"]?.objectValue?.first)
        let items = try XCTUnwrap(report["items"]?.arrayValue)
        XCTAssertTrue(items.filter { $0["kind"]?.stringValue == "channel" }.allSatisfy { $0["estimators"]?["l1"]?.doubleValue != nil })
        XCTAssertTrue(items.filter { $0["kind"]?.stringValue == "group" }.allSatisfy { $0["estimators"]?["l2"]?.doubleValue != nil })
        let latent = items.filter { $0["latent"]?.stringValue != "none" }.count
        XCTAssertEqual(latent, (report["agreement"]?["latent"]?["hiddenCritical"]?.intValue ?? -1) + (report["agreement"]?["latent"]?["hiddenWeak"]?.intValue ?? -1))
    }
}
