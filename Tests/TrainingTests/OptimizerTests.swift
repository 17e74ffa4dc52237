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
