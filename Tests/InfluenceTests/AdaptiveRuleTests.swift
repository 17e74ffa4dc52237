import Foundation
import Influence
import Support
import XCTest

/// The adaptive rule's statistics (docs/influence.md, "Adaptive decisions"), on simulated
/// populations with known answers. Every simulation is seeded, so a failure reproduces.
final class AdaptiveRuleTests: XCTestCase {
    var rng = SplitMix64(seed: 2026)
    func uniform() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
    func shuffled(_ x: [Double]) -> [Double] {
        var x = x
        for i in stride(from: x.count - 1, to: 0, by: -1) { x.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        return x
    }

    /// Coverage: over many random orders of finite populations from known distributions on
    /// [0, 1], the share of sequences whose upper bound ever falls below the population mean is at
    /// most α = 0.05 (Ville's inequality promises it for every population).
    func testBettingSequenceCoversThePopulationMean() {
        let alpha = 0.05, n = 40, trials = 400
        let distributions: [(String, () -> Double)] = [
            ("uniform", { self.uniform() }),
            ("bernoulli 0.1", { self.uniform() < 0.1 ? 1 : 0 }),
            ("skewed u^6", { pow(self.uniform(), 6) }),
            ("two points 0.05 / 0.95", { self.uniform() < 0.8 ? 0.05 : 0.95 }),
        ]
        for (name, draw) in distributions {
            var misses = 0, width = 0.0
            for _ in 0..<trials {
                let population = shuffled((0..<n).map { _ in draw() })
                let mean = population.reduce(0, +) / Double(n)
                var missed = false
                for k in 1..<n {
                    let upper = BettingSequence.upperMean(Array(population[..<k]), population: n, level: alpha)
                    if upper < mean - 1e-12 { missed = true }
                    if k == n / 2 { width += upper - mean }
                }
                if missed { misses += 1 }
            }
            XCTAssertLessThanOrEqual(Double(misses) / Double(trials), alpha, "\(name): \(misses) of \(trials) sequences missed")
            // Not vacuous: halfway through, the bound is well inside the range.
            XCTAssertLessThan(width / Double(trials), 0.5, name)
        }
    }

    /// With every draw known the bound is the mean itself; with none, the top of the range.
    func testBettingSequenceEnds() {
        XCTAssertEqual(BettingSequence.upperMean([], population: 10, level: 0.05), 1)
        let zeros = [Double](repeating: 0, count: 300)
        XCTAssertLessThan(BettingSequence.upperMean(zeros, population: 400, level: 0.01), 0.1)
        // One value left: the bound never exceeds what that value at the top of the range gives.
        XCTAssertLessThanOrEqual(BettingSequence.upperMean([0.2, 0.4], population: 3, level: 0.05), (0.6 + 1) / 3 + 1e-12)
    }

    func rule(n: Int, resamples: Int = 200) -> AdaptiveRule {
        AdaptiveRule(population: n, threshold: 1e-3, level: 0.01, floor: 0, ceiling: 1e-2, resamples: resamples)
    }

    /// Constructed sequences: one input already above what N inputs allow decides "not weak";
    /// small values decide nothing on one input; a long run of zeros on a large population decides
    /// "weak" before the end; a value above the assumed range never lets an item be called weak early.
    func testDecisionsOnConstructedSequences() {
        XCTAssertEqual(rule(n: 16).decide([0.05], seed: 1), .notWeak)
        XCTAssertEqual(rule(n: 16).decide([1e-4], seed: 1), .allInputs)
        XCTAssertEqual(rule(n: 16).decide([1e-4, 2e-4, 0], seed: 1), .allInputs)
        XCTAssertEqual(rule(n: 16).decide(Array(repeating: 1e-4, count: 16), seed: 1), .allInputs, "every input measured: the exact rule decides")
        let large = rule(n: 400)
        let first = stride(from: 10, to: 400, by: 10).first { large.decide(Array(repeating: 0, count: $0), seed: 3) == .weak }
        XCTAssertNotNil(first, "400 inputs of zeros: never decided weak")
        XCTAssertLessThan(first ?? 400, 360)
        XCTAssertEqual(large.decide(Array(repeating: 0, count: 380) + [0.5], seed: 3), .notWeak)
        XCTAssertEqual(large.decide([2e-2] + Array(repeating: 0, count: 380), seed: 3), .allInputs, "a value above the range: no weak decision")
        // loss has no floor: nothing is certain, and nothing is assumed.
        let loss = AdaptiveRule(population: 16, threshold: 1e-3, level: 0.01, floor: -.infinity, ceiling: .infinity, resamples: 200)
        XCTAssertEqual(loss.decide([5], seed: 1), .allInputs)
    }

    /// "Not weak" is certain: whatever the inputs not yet measured hold (nonnegative), the exact
    /// rule on all of them says not weak.
    func testNotWeakDecisionsHoldForEveryCompletion() {
        let n = 16
        var checked = 0
        for trial in 0..<300 {
            let k = 1 + Int(rng.next() % UInt64(n - 1))
            let scale = pow(10, -4 + 3 * uniform())
            let seen = (0..<k).map { _ in scale * pow(uniform(), 3) }
            let seed = UInt64(trial)
            guard rule(n: n).decide(seen, seed: seed) == .notWeak else { continue }
            for completion in 0..<4 {
                let rest = (0..<(n - k)).map { _ in completion == 0 ? 0 : scale * uniform() }
                let exact = InfluenceStatistics(values: seen + rest, resamples: 200, seed: seed)
                XCTAssertGreaterThanOrEqual(Double(Float(exact.ciHigh)), 1e-3, "trial \(trial): decided not weak on \(seen)")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 100)
    }

    /// "Weak" errs at most at rate α: populations whose exact answer is "not weak" (a tenth of the
    /// inputs at the top of the range, the rest near zero), in random orders, are decided weak
    /// early in at most α of the orders; populations whose answer is "weak" mostly are decided
    /// weak early.
    func testWeakDecisionsErrAtMostAtTheLevel() {
        let n = 300, checkpoints = [8, 16, 32, 64, 128, 200, 256]
        for (large, wantWeak) in [(30, false), (0, true)] {
            var wrong = 0, decided = 0, trials = 0
            for trial in 0..<60 {
                let population = shuffled((0..<n).map { $0 < large ? 1e-2 : 2e-5 * uniform() })
                let seed = UInt64(trial)
                let exact = ReportWarnings.isWeak(ciHigh: Double(Float(InfluenceStatistics(values: population, resamples: 200, seed: seed).ciHigh)),
                                                  n: n, threshold: 1e-3)
                XCTAssertEqual(exact, wantWeak)
                trials += 1
                if let k = checkpoints.first(where: { rule(n: n).decide(Array(population[..<$0]), seed: seed) == .weak }) {
                    _ = k
                    decided += 1
                    if !exact { wrong += 1 }
                }
            }
            if wantWeak {
                XCTAssertGreaterThan(decided, trials / 2, "weak populations were rarely decided early")
            } else {
                XCTAssertLessThanOrEqual(Double(wrong) / Double(trials), 0.01, "\(wrong) of \(trials) not-weak populations decided weak")
            }
        }
    }
}
