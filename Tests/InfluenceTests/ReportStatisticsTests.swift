import Foundation
import Influence
import Support
import XCTest

/// Normalisers, the recommendation rule, the quantile weak threshold, rank stability and class
/// damage, each against values worked out by hand.
final class ReportStatisticsTests: XCTestCase {
    func testNormalizers() {
        let s = [1.0, 3.0, 2.0, 4.0]
        XCTAssertEqual(ScoreNormalizer.none.apply(s), s)
        XCTAssertEqual(ScoreNormalizer.max.apply(s), [0.25, 0.75, 0.5, 1.0])
        XCTAssertEqual(ScoreNormalizer.mean.apply(s), [0.4, 1.2, 0.8, 1.6])
        let norm = (1.0 + 9 + 4 + 16).squareRoot()
        XCTAssertEqual(ScoreNormalizer.l2.apply(s), s.map { $0 / norm })
        // LAMP: ascending 1, 2, 3, 4 → 1/10, 2/9, 3/7, 4/4.
        XCTAssertEqual(ScoreNormalizer.lamp.apply(s), [1.0 / 10, 3.0 / 7, 2.0 / 9, 1.0])
        XCTAssertEqual(ScoreNormalizer.max.apply([0, 0]), [0, 0], "an all-zero layer stays as it is")
    }

    func testRecommendationIsTheCheapestGoodEnough() {
        func pick(_ c: [(EstimatorKind, Double)]) -> String? { ProfileReport.recommendation(c)["estimator"]?.stringValue }
        XCTAssertEqual(pick([(.meanact, 0.9), (.l1, 0.75), (.l2, 0.8)]), "l2", "weights-only first, then the higher ρ")
        XCTAssertEqual(pick([(.meanact, 0.9), (.l1, 0.5)]), "meanact")
        XCTAssertEqual(pick([(.random, 0.95), (.l1, 0.1)]), "measure", "random is never recommended")
    }

    func testQuantileThreshold() {
        let items: [JSONValue] = (0..<10).map { i in ["kind": "channel", "influence": ["mean": .double(Double(9 - i))]] }
        XCTAssertEqual(ProfileReport.quantileThreshold(items: items, fraction: 0.1), 1)
        XCTAssertEqual(ProfileReport.quantileThreshold(items: items, fraction: 0.25), 2)
        XCTAssertEqual(ProfileReport.quantileThreshold(items: items, fraction: 0.99), 9)
    }

    func testStabilityHalvesAndResamples() throws {
        let values = [1.0, 10.0, 3.0, 20.0, 5.0]
        let object = try XCTUnwrap(RankStability.itemObject(values: values, seed: 7))
        let halves = try XCTUnwrap(object["halves"]?.arrayValue?.compactMap(\.doubleValue))
        XCTAssertEqual(halves[0], 3, accuracy: 1e-6)  // inputs 0, 2, 4
        XCTAssertEqual(halves[1], 15, accuracy: 1e-6)  // inputs 1, 3
        let resamples = try XCTUnwrap(object["resamples"]?.arrayValue?.compactMap(\.doubleValue))
        XCTAssertEqual(resamples.count, RankStability.resamples)
        XCTAssertTrue(resamples.allSatisfy { $0 >= 1 && $0 <= 20 })
        XCTAssertEqual(RankStability.itemObject(values: values, seed: 7), object, "seeded")
        XCTAssertNil(RankStability.itemObject(values: [1], seed: 7))
        // Perfectly ordered halves give τ = 1; reversed give −1.
        let items: [JSONValue] = (0..<6).map { i in
            ["kind": "channel", "layer": "a", "influence": ["mean": .double(Double(i))],
             "stability": ["halves": [.double(Double(i)), .double(Double(i) * 2)], "resamples": .array((0..<8).map { _ in .double(Double(i)) })]]
        }
        let section = RankStability.section(items: items)
        XCTAssertEqual(section["halvesKendall"]?.doubleValue, 1)
        XCTAssertEqual(section["bootstrapKendall"]?["min"]?.doubleValue, 1)
    }

    func testClassDamageFindsTheRuinedClass() throws {
        // Class 3 loses both of its inputs; class 1 loses one of three; the mean drop is small.
        let acc = [0, 0, 1, 0, 1, 1, 0, 0, 0, 0] as [Double]
        let labels = [1, 1, 1, 2, 3, 3, 2, 2, 0, 0]
        let damage = try XCTUnwrap(ClassDamage.itemObject(accValues: acc, labels: labels))
        XCTAssertEqual(damage["class"]?.intValue, 3)
        XCTAssertEqual(damage["accDrop"]?.doubleValue, 1)
        XCTAssertEqual(damage["n"]?.intValue, 2)
        XCTAssertNil(ClassDamage.itemObject(accValues: acc, labels: nil))
    }
}
