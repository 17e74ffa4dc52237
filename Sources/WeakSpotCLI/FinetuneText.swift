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

    static func historyJSON(_ history: [EpochRecord], before: Evaluation?, settings: FineTuneSettings) -> JSONValue {
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
            ]),
            "before": evaluation(before),
            "epochs": .array(history.map { r in
                .object(["epoch": .int(r.epoch), "meanLoss": .double(r.meanLoss), "lr": .float(r.learningRate),
                         "seconds": .double(r.seconds), "validation": evaluation(r.validation)])
            }),
        ])
    }
}
