import Influence
import Support
import Training

/// How `finetune` reports: one line per epoch, validation figures, the history file.
enum FinetuneText {
    static func evaluation(_ e: Evaluation) -> String {
        var parts: [String] = []
        if let a = e.agreement { parts.append("top-1 agreement \(NumberText.fixed(100 * a, decimals: 1))%") }
        if let kl = e.kl { parts.append("kl \(NumberText.fixed(kl, decimals: 4))") }
        if let a = e.accuracy { parts.append("accuracy \(NumberText.fixed(100 * a, decimals: 1))%") }
        if let ce = e.crossEntropy { parts.append("cross-entropy \(NumberText.fixed(ce, decimals: 4))") }
        return parts.joined(separator: ", ") + " (\(e.inputs) validation inputs)"
    }

    static func epoch(_ r: EpochRecord, of epochs: Int) -> String {
        var line = "epoch \(r.epoch)/\(epochs): loss \(NumberText.fixed(r.meanLoss, decimals: 4)), lr \(r.learningRate), \(NumberText.fixed(r.seconds, decimals: 1)) s"
        if let v = r.validation { line += "; " + evaluation(v) }
        return line
    }

    /// The line on standard error before the first step: what trains, on what, from what.
    static func start(_ tuner: FineTuner, model: String, teacher: String?) -> String {
        let source = teacher.map { tuner.data.labels != nil ? "labels and distillation from \($0)" : "distillation from \($0)" } ?? "labels"
        let s = tuner.settings
        return "fine-tuning \(NumberText.grouped(tuner.parameters.elementCount(in: tuner.graph))) parameters (\(tuner.parameters.parameters.count) tensors) of \(model) on \(tuner.data.count) inputs, \(s.epochs) epochs of \(tuner.stepsPerEpoch) steps, lr \(s.optimizer.learningRate), BatchNormalization \(s.trainBatchNorm ? "trained" : "frozen"); loss: \(source)"
    }

    /// Which weights were written and why, after the run: the kept epoch's figures, and a warning
    /// when no epoch beat the starting model (then the starting weights are written unchanged).
    static func outcome(_ tuner: FineTuner, keep: KeepPolicy, console: Console) {
        guard let best = tuner.progress.best, let last = tuner.progress.history.last else { return }
        let stopped = tuner.progress.stoppedEarly
            ? "early stop after epoch \(last.epoch): \(tuner.progress.epochsSinceBest) epochs without improvement; " : ""
        switch keep {
        case .best where best.epoch == 0:
            console.printError("warning: no epoch beat the starting model's \(best.evaluation.decidingFigure) on validation: writing the starting weights unchanged (try a lower --lr, or more data)")
            console.print(stopped + "kept: the starting weights; " + evaluation(best.evaluation))
        case .best:
            console.print(stopped + "kept: epoch \(best.epoch) (best validation); " + evaluation(best.evaluation))
        case .last:
            console.print(stopped + "kept: epoch \(last.epoch) (--keep last)" + (last.validation.map { "; " + evaluation($0) } ?? ""))
            if best.epoch == 0 {
                console.printError("warning: the written weights validate worse than the starting model's (\(best.evaluation.decidingFigure)); --keep best would have written the starting weights")
            }
        }
    }

    static func historyJSON(_ progress: TrainingProgress, before: Evaluation?, keep: KeepPolicy, settings: FineTuneSettings) -> JSONValue {
        let history = progress.history
        func evaluation(_ e: Evaluation?) -> JSONValue {
            guard let e else { return .null }
            var o: [String: JSONValue] = ["inputs": .int(e.inputs)]
            if let v = e.agreement { o["agreement"] = .double(v) }
            if let v = e.kl { o["kl"] = .double(v) }
            if let v = e.accuracy { o["accuracy"] = .double(v) }
            if let v = e.crossEntropy { o["crossEntropy"] = .double(v) }
            return .object(o)
        }
        return .object([
            "schema": .string("weakspot.finetune-history/1"),
            "settings": .object([
                "epochs": .int(settings.epochs), "batch": .int(settings.batchSize), "optimizer": .string(settings.optimizer.kind.rawValue),
                "lr": .float(settings.optimizer.learningRate), "weightDecay": .float(settings.optimizer.weightDecay),
                "schedule": .string(settings.schedule.rawValue), "temperature": .float(settings.temperature),
                "bn": .string(settings.trainBatchNorm ? "train" : "frozen"), "seed": .int(Int(truncatingIfNeeded: settings.seed)),
                "earlyStop": settings.earlyStop.map { .int($0) } ?? .null,
            ]),
            "before": evaluation(before),
            "keep": .string(keep.rawValue),
            "keptEpoch": keep == .best ? (progress.best.map { .int($0.epoch) } ?? .null) : (history.last.map { .int($0.epoch) } ?? .null),
            "stoppedEarly": .bool(progress.stoppedEarly),
            "epochs": .array(history.map { r in
                .object(["epoch": .int(r.epoch), "meanLoss": .double(r.meanLoss), "lr": .float(r.learningRate),
                         "seconds": .double(r.seconds), "validation": evaluation(r.validation)])
            }),
        ])
    }
}
