import Foundation
import TestSupport
import Training
import XCTest

/// Adam, AdamW and SGD against torch.optim on the same parameter and gradients, step by step
/// (Fixtures/training/optimizers.json, made by Fixtures/scripts/make_training_fixtures.py).
final class OptimizerTests: XCTestCase {
    func testEachOptimizerMatchesTorchStepByStep() throws {
        let reference = try TrainingFixtures.json("training/optimizers.json")
        let initial = try TrainingFixtures.floats(reference["initial"])
        let gradients = try XCTUnwrap(reference["gradients"] as? [Any]).map { try TrainingFixtures.floats($0) }
        let cases = try XCTUnwrap(reference["cases"] as? [String: Any])
        XCTAssertEqual(Set(cases.keys), ["adam", "adamw", "sgd", "sgdPlain"])
        for (name, any) in cases {
            let entry = try XCTUnwrap(any as? [String: Any])
            let settings = try XCTUnwrap(entry["settings"] as? [String: Double])
            let kind: OptimizerKind = name.hasPrefix("sgd") ? .sgd : OptimizerKind(rawValue: name)!
            var optimizerSettings = OptimizerSettings(kind: kind, learningRate: Float(settings["lr"]!), weightDecay: Float(settings["weight_decay"] ?? 0))
            optimizerSettings.momentum = Float(settings["momentum"] ?? 0)
            let optimizer = Optimizer(settings: optimizerSettings)
            var state = OptimizerState(sizes: [initial.count], kind: kind)
            var parameter = initial
            let after = try XCTUnwrap(entry["after"] as? [Any]).map { try TrainingFixtures.floats($0) }
            XCTAssertEqual(after.count, gradients.count)
            for (step, gradient) in gradients.enumerated() {
                optimizer.beginStep(&state)
                optimizer.apply(0, parameter: &parameter, gradient: gradient, state: &state, learningRate: optimizerSettings.learningRate)
                let worst = zip(parameter, after[step]).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
                XCTAssertLessThanOrEqual(worst, 2e-6, "\(name) step \(step + 1)")
            }
        }
    }

    /// Adam without weight decay (what `weakspot bench --train-step` runs) takes a four-lane path:
    /// against torch.optim.Adam's update written out in Double (m ← m + (1 − β₁)(g − m),
    /// v ← β₂v + (1 − β₂)g², p ← p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)), on a length that is
    /// not a multiple of four and long enough to be split over two threads, which must give the
    /// same bits as one.
    func testPlainAdamMatchesTheUpdateWrittenOut() throws {
        let count = 70_001
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func uniform(_ scale: Float) -> Float {  // xorshift64 → [−scale, scale)
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
        }
        let initial = (0..<count).map { _ in uniform(1) }
        let gradients = (0..<3).map { _ in (0..<count).map { _ in uniform(0.1) } }
        var settings = OptimizerSettings(kind: .adam, learningRate: 1e-3)
        settings.epsilon = 1e-8
        let optimizer = Optimizer(settings: settings)
        var results: [[Float]] = []
        for threads in [1, 2] {
            var moments = OptimizerState(sizes: [count], kind: .adam)
            var parameter = initial
            var (p, m, v) = (initial.map(Double.init), [Double](repeating: 0, count: count), [Double](repeating: 0, count: count))
            for (step, gradient) in gradients.enumerated() {
                optimizer.beginStep(&moments)
                optimizer.apply(0, parameter: &parameter, gradient: gradient, state: &moments, learningRate: 1e-3, threads: threads)
                let (b1, b2, t) = (0.9, 0.999, Double(step + 1))
                for j in 0..<count {
                    let g = Double(gradient[j])
                    m[j] += (1 - b1) * (g - m[j])
                    v[j] = b2 * v[j] + (1 - b2) * g * g
                    p[j] -= 1e-3 / (1 - pow(b1, t)) * m[j] / (v[j].squareRoot() / (1 - pow(b2, t)).squareRoot() + 1e-8)
                }
                let worst = zip(parameter, p).map { abs(Double($0) - $1) / max(1, abs($1)) }.max() ?? 0
                XCTAssertLessThanOrEqual(worst, 2e-6, "\(threads) threads, step \(step + 1)")
            }
            results.append(parameter)
        }
        XCTAssertEqual(results[0], results[1], "one thread and two threads")
    }

    func testCosineScheduleMatchesCosineAnnealingLR() throws {
        let cosine = try XCTUnwrap(try TrainingFixtures.json("training/optimizers.json")["cosine"] as? [String: Any])
        let rates = try TrainingFixtures.floats(cosine["rates"])
        let total = try XCTUnwrap(cosine["totalSteps"] as? Int)
        for (step, rate) in rates.enumerated() {
            XCTAssertEqual(LearningRateSchedule.cosine.rate(base: 0.3, step: step, totalSteps: total), rate, accuracy: 1e-6, "step \(step)")
            XCTAssertEqual(LearningRateSchedule.constant.rate(base: 0.3, step: step, totalSteps: total), 0.3)
        }
    }
}
