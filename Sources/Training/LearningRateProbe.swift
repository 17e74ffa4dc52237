import Foundation
import NetworkIR

/// The learning rate `finetune` uses when `--lr` is not given: the largest of a descending ladder
/// whose first update does not make the model validate worse than it started.
///
/// Why a probe rather than a constant: a pretrained, pruned network is already near a good
/// minimum, and Adam's first update moves every weight by the full learning rate (its moment
/// estimates make the step a sign step), so a rate that suits training from scratch (10⁻³)
/// collapses it in one step — on the demo, top-1 agreement with the original fell from 100% to
/// 22% after one step. Which rate is safe depends on the model's weight scales and the data, so
/// it is measured: each candidate takes one update from the starting weights on the first batch
/// (the same batch every time) and is judged on the validation set by `Evaluation.isBetter`.
public enum LearningRateProbe {
    /// Candidates, largest first, in steps of about half a decade: 10⁻³ … 10⁻⁶ for Adam and
    /// AdamW, 10⁻² … 10⁻⁵ for SGD.
    public static func ladder(for kind: OptimizerKind) -> [Float] {
        let adam: [Float] = [1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6]
        return kind == .sgd ? adam.map { $0 * 10 } : adam
    }

    public struct Trial: Sendable, Equatable {
        public var rate: Float
        public var evaluation: Evaluation
    }

    public struct Outcome: Sendable {
        public var rate: Float
        /// Every candidate tried, in order; the probe stops at the first that passes.
        public var trials: [Trial]
        /// false when no candidate kept the starting figures: the smallest is used.
        public var passed: Bool
    }

    /// Tries the ladder on copies of `graph` (which is left untouched) and returns the first rate
    /// whose one-update model is at least as good as `start` on `validation`.
    public static func choose(graph: Graph, settings: FineTuneSettings, data: TrainingSet, teacher: TeacherLogits?,
                              validation: ValidationSet, start: Evaluation) throws(TrainingError) -> Outcome {
        var trials: [Trial] = []
        let candidates = ladder(for: settings.optimizer.kind)
        for rate in candidates {
            var s = settings
            s.optimizer.learningRate = rate
            s.epochs = 1
            s.schedule = .constant
            let tuner = try FineTuner(graph: graph, settings: s, data: data, teacher: teacher)
            try tuner.step()
            let evaluation = try validation.evaluate(tuner.graph, threads: settings.threads)
            trials.append(Trial(rate: rate, evaluation: evaluation))
            if !start.isBetter(than: evaluation) { return Outcome(rate: rate, trials: trials, passed: true) }
        }
        return Outcome(rate: candidates.last!, trials: trials, passed: false)
    }
}
