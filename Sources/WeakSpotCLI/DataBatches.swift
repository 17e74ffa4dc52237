import DataInput
import Execution
import Foundation
import NetworkIR

/// Reads a command's `--data` (with `--labels` and the preprocessing options) into batches, for
/// commands that need every input in memory (plan verification).
enum DataBatches {
    static func read(_ arguments: ParsedArguments, model: LoadedModel, batch: Int, threads: Int, maxInputs: Int?) throws -> [(input: Tensor, labels: [Int]?)] {
        guard let data = arguments.value("data") else { return [] }
        guard let input = model.input else { throw CLIError.input("\(model.path): graph: expected an input") }
        return try read(data: data, labelsPath: arguments.value("labels"), preprocess: try PreprocessOptions.spec(arguments, input: input),
                        arguments, model: model, batch: batch, threads: threads, maxInputs: maxInputs)
    }

    /// `data` (a DATA argument) with its labels file, preprocessed by `preprocess` (the command's
    /// preprocessing, or a variant of it such as fine-tuning's enlarged crop).
    static func read(data: String, labelsPath: String?, preprocess: PreprocessSpec, _ arguments: ParsedArguments, model: LoadedModel,
                     batch: Int, threads: Int, maxInputs: Int?) throws -> [(input: Tensor, labels: [Int]?)] {
        guard let input = model.input else { throw CLIError.input("\(model.path): graph: expected an input") }
        let options = DatasetOptions(preprocess: preprocess, layout: PreprocessOptions.layout(input), labelsPath: labelsPath,
                                     threads: threads, skipBad: arguments.flag("skip-bad"), limits: try PreprocessOptions.limits(arguments),
                                     syntheticShape: input.sampleShape)
        let dataset = try Dataset(source: try DataSource.parse(data), options: options)
        let reader = try dataset.batches(size: batch)
        var batches: [(input: Tensor, labels: [Int]?)] = []
        var count = 0
        while let b = try reader.next() {
            var shape = b.shape, values = b.values, labels = b.labels
            if let limit = maxInputs, count + shape[0] > limit {
                let keep = limit - count
                guard keep > 0 else { break }
                let per = values.count / shape[0]
                values = Array(values[0 ..< keep * per]); labels = labels.map { Array($0.prefix(keep)) }; shape[0] = keep
            }
            count += shape[0]
            batches.append((Tensor(shape: shape, storage: values), labels))
        }
        guard count > 0 else { throw CLIError.input("\(data): expected at least one readable input, got none") }
        return batches
    }
}
