import Foundation
import DataInput
import Execution
import Influence
import NetworkIR

/// What `weakspot run` (and the demo) needs to stream a dataset through a model.
struct InferenceSettings {
    var data: String
    var batch: Int
    var threads: Int
    var preprocess: PreprocessSpec
    var labelsPath: String?
    var skipBad: Bool
    var limits: ImageLimits
    var top: Int
    /// `--output-kind`: nil reads it from the graph.
    var outputKind: OutputKind? = nil
}

/// One input's result: its source, the K most probable classes, and its label when known.
struct Prediction {
    var source: String
    /// Class index and softmax probability, most probable first (ties: lower index first).
    var top: [(index: Int, probability: Double)]
    var label: Int?
}

/// Everything a run produced.
struct InferenceResult {
    var predictions: [Prediction]
    /// All logits, inputs in order, each input's values in the model output's order.
    var logits: [Float]
    /// The model output's shape for one input (after the batch axis).
    var outputShape: [Int]
    var skipped: [SkippedFile]
    /// What the model's output holds; probabilities are derived from it accordingly.
    var outputKind: OutputKind

    var count: Int { predictions.count }

    /// Top-1 and top-K correct counts, when every prediction has a label.
    var correct: (top1: Int, topK: Int)? {
        guard !predictions.isEmpty, predictions.allSatisfy({ $0.label != nil }) else { return nil }
        var top1 = 0, topK = 0
        for p in predictions {
            if p.top.first?.index == p.label { top1 += 1 }
            if p.top.contains(where: { $0.index == p.label }) { topK += 1 }
        }
        return (top1, topK)
    }
}

/// Streams batches from a dataset through a model's plan: softmax, top-K, logits kept in order.
enum Inference {
    /// Runs `model` on `settings.data`. `onBatch` receives each batch's predictions as soon as
    /// they exist, with the number of classes (values per input), for streaming output;
    /// `progress` receives inputs done (read or skipped) and the total. Throws the data layer's
    /// errors (naming the file), `CLIError.input` when the inputs do not fit the model, and
    /// whatever `onBatch` throws.
    static func run(model: LoadedModel, settings: InferenceSettings, progress: (_ done: Int, _ total: Int) -> Void = { _, _ in },
                    onDataset: (Dataset) -> Void = { _ in },
                    onBatch: (_ predictions: [Prediction], _ classCount: Int) throws -> Void = { _, _ in }) throws -> InferenceResult {
        guard let input = model.input else { throw CLIError.input("\(model.path): graph: expected an input") }
        let source = try DataSource.parse(settings.data)
        let options = DatasetOptions(preprocess: settings.preprocess, layout: PreprocessOptions.layout(input),
                                     labelsPath: settings.labelsPath, threads: settings.threads,
                                     skipBad: settings.skipBad, limits: settings.limits,
                                     syntheticShape: input.sampleShape)
        let dataset = try Dataset(source: source, options: options)
        onDataset(dataset)
        let plan = try model.plan(threads: settings.threads)
        let reader = try dataset.batches(size: settings.batch)
        let outputKind = OutputKind.resolve(settings.outputKind, graph: model.graph)

        var result = InferenceResult(predictions: [], logits: [], outputShape: [], skipped: [],
                                     outputKind: outputKind)
        while let batch = try reader.next() {
            try checkShape(batch, input: input, model: model, data: settings.data)
            let n = batch.shape.first ?? 0
            let outputs: [Tensor]
            do {
                outputs = try plan.run(Tensor(shape: batch.shape, storage: batch.values))
            } catch {
                throw CLIError.input("\(model.path): \(error)")
            }
            guard let logits = outputs.first, logits.shape.first == n, n > 0, logits.count % n == 0 else {
                let shape = outputs.first.map { "\($0.shape)" } ?? "no output"
                throw CLIError.input("\(model.path): output 0: expected the batch (\(n)) as the first dimension, got \(shape)")
            }
            let perInput = logits.count / n
            let shape = Array(logits.shape.dropFirst())
            if result.outputShape.isEmpty { result.outputShape = shape }
            guard shape == result.outputShape else {
                throw CLIError.input("\(model.path): output 0: expected the same shape for every batch, got \(result.outputShape) then \(shape)")
            }
            result.logits += logits.storage
            var predictions: [Prediction] = []
            for i in 0..<n {
                let row = logits.storage[(i * perInput)..<((i + 1) * perInput)]
                let probabilities = outputKind.probabilities(row)
                predictions.append(Prediction(source: batch.sources.indices.contains(i) ? batch.sources[i] : "input \(result.count + i)",
                                              top: topK(probabilities, k: settings.top),
                                              label: batch.labels.flatMap { $0.indices.contains(i) ? $0[i] : nil }))
            }
            result.predictions += predictions
            try onBatch(predictions, perInput)
            progress(reader.delivered + reader.skippedFiles.count, dataset.count)
        }
        result.skipped = reader.skippedFiles
        if result.predictions.isEmpty {
            throw CLIError.input("\(settings.data): expected at least one readable input, got none (\(result.skipped.count) skipped)")
        }
        return result
    }

    private static func checkShape(_ batch: InputBatch, input: GraphInput, model: LoadedModel, data: String) throws(CLIError) {
        let item = Array(batch.shape.dropFirst())
        guard item == input.sampleShape else {
            let expected = "(N, " + input.sampleShape.map(String.init).joined(separator: ", ") + ")"
            let got = "(" + batch.shape.map(String.init).joined(separator: ", ") + ")"
            throw CLIError.input("\(data): expected inputs shaped \(expected) (\(input.layout.rawValue)) as \(model.path) takes, got \(got); give --resize/--crop or --input-shape")
        }
    }

    /// The `k` largest entries, largest first, ties broken by lower index; NaN sorts last.
    static func topK(_ values: [Double], k: Int) -> [(index: Int, probability: Double)] {
        let order = values.indices.sorted { a, b in
            let x = values[a], y = values[b]
            if x.isNaN != y.isNaN { return y.isNaN }
            if x != y && !x.isNaN { return x > y }
            return a < b
        }
        return order.prefix(max(0, k)).map { ($0, values[$0]) }
    }
}
