import DataInput
import Execution
import Foundation
import NetworkIR

/// Reads a command's `--data` (with `--labels` and the preprocessing options) into batches, for
/// commands that need every input in memory (plan verification, fine-tuning's validation set).
enum DataBatches {
    /// `data` (a DATA argument) with its labels file, preprocessed by `preprocess` (the command's
    /// preprocessing, or a variant of it such as fine-tuning's enlarged crop), at most `maxInputs`.
    static func read(data: String, labelsPath: String?, preprocess: PreprocessSpec, skipBad: Bool, _ arguments: ParsedArguments,
                     model: LoadedModel, batch: Int, threads: Int, maxInputs: Int?) throws -> [(input: Tensor, labels: [Int]?)] {
        guard let input = model.input else { throw CLIError.input("\(model.path): graph: expected an input") }
        let options = DatasetOptions(preprocess: preprocess, layout: PreprocessOptions.layout(input), labelsPath: labelsPath,
                                     threads: threads, skipBad: skipBad, limits: try PreprocessOptions.limits(arguments),
                                     syntheticShape: input.sampleShape)
        let all = try Dataset(source: try DataSource.parse(data), options: options).readAll(max: maxInputs, batchSize: batch).inputs
        let count = all.shape[0]
        guard count > 0 else { throw CLIError.input("\(data): expected at least one readable input, got none") }
        let per = all.values.count / count
        return stride(from: 0, to: count, by: batch).map { start in
            let end = min(count, start + batch)
            return (Tensor(shape: [end - start] + all.shape.dropFirst(), storage: Array(all.values[start * per ..< end * per])),
                    all.labels.map { Array($0[start ..< end]) })
        }
    }
}
