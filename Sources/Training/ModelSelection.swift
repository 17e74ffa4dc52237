import NetworkIR

/// `--keep`: which weights `finetune` writes. `best` (the default) writes the best-validating
/// weights seen, the starting model included, so a run that only made things worse hands back
/// the model it was given; `last` writes the final epoch's weights whatever they validate at.
public enum KeepPolicy: String, CaseIterable, Sendable, Codable { case best, last }

/// The best-validating weights so far, as the run's progress records them (the weights
/// themselves are held by the `FineTuner` and saved in its checkpoint).
public struct BestEpoch: Sendable, Equatable, Codable {
    /// 0 is the starting model, before any update.
    public var epoch: Int
    public var evaluation: Evaluation
}

extension Evaluation {
    /// Whether `self` validates strictly better than `other`: with labels, accuracy decides and
    /// cross-entropy breaks a tie; otherwise top-1 agreement with the teacher decides and KL
    /// breaks a tie. The first figure is the one users judge a pruned model by; the second is
    /// continuous, so it separates epochs a handful of inputs cannot.
    public func isBetter(than other: Evaluation) -> Bool {
        if let a = accuracy, let b = other.accuracy {
            if a != b { return a > b }
            if let x = crossEntropy, let y = other.crossEntropy { return x < y }
            return false
        }
        if let a = agreement, let b = other.agreement {
            if a != b { return a > b }
            if let x = kl, let y = other.kl { return x < y }
        }
        return false
    }

    /// The figure `isBetter` decides by, for messages.
    public var decidingFigure: String {
        if accuracy != nil { return "accuracy" }
        return "top-1 agreement"
    }
}

extension FineTuner {
    /// The constants a snapshot holds: what training changes and the export writes.
    var selectedConstants: [(name: String, value: ValueID)] {
        TrainingExport.changedConstants(graph, parameters: parameters, runningStatistics: settings.trainBatchNorm)
    }

    /// Starts the selection with the starting model's validation (epoch 0). A resumed run keeps
    /// the selection its checkpoint restored.
    /// `probedLearningRate`, when the probe chose the rate, is kept in the checkpoint so a resumed
    /// run trains at the same rate without probing again.
    public func startSelection(_ before: Evaluation, probedLearningRate: Float? = nil) {
        guard progress.best == nil else { return }
        progress.probedLearningRate = probedLearningRate
        progress.best = BestEpoch(epoch: 0, evaluation: before)
        bestValues = snapshot()
    }

    /// Records the validation of the epoch that just ended, keeps its weights when they beat the
    /// best so far, and stops the run after `settings.earlyStop` epochs without improvement.
    public func recordValidation(_ evaluation: Evaluation) {
        guard !progress.history.isEmpty else { return }
        progress.history[progress.history.count - 1].validation = evaluation
        guard let best = progress.best else { return }
        if evaluation.isBetter(than: best.evaluation) {
            progress.best = BestEpoch(epoch: progress.history[progress.history.count - 1].epoch, evaluation: evaluation)
            progress.epochsSinceBest = 0
            bestValues = snapshot()
        } else {
            progress.epochsSinceBest += 1
            if let patience = settings.earlyStop, progress.epochsSinceBest >= patience { progress.stoppedEarly = true }
        }
    }

    /// Puts the best-validating weights back into `graph` (nothing to do when the last epoch was
    /// the best, or no selection ran).
    public func restoreBest() {
        guard let best = progress.best, best.epoch != (progress.history.last?.epoch ?? 0) else { return }
        for (_, value) in selectedConstants {
            if let values = bestValues[value] { graph.constants[value]!.storage = values }
        }
    }

    func snapshot() -> [ValueID: [Float]] {
        var values: [ValueID: [Float]] = [:]
        for (_, value) in selectedConstants { values[value] = graph.constants[value]?.storage }
        return values
    }
}
