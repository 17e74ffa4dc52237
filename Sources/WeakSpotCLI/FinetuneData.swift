import DataInput
import Foundation
import Influence
import NetworkIR
import Support
import Training

/// `finetune`'s inputs: the training set in memory with its crop margin, and the validation set
/// with the teacher's logits computed once.
enum FinetuneData {
    /// Images (and uint8 pixels) are preprocessed with a crop `margin` pixels larger on every side,
    /// so random crops show real image content; inputs that arrive at the model's size (float
    /// .npy, synthetic) get reflected borders instead.
    static func trainingSet(data: String, request: FinetuneRequest, _ arguments: ParsedArguments, model: LoadedModel, margin: Int, threads: Int, maxBytes: Int) throws -> TrainingSet {
        guard let input = model.input else { throw CLIError.input("\(model.path): graph: expected an input") }
        var spec = try PreprocessOptions.spec(arguments, input: input)
        if let crop = spec.crop { spec.crop = .init(height: crop.height + 2 * margin, width: crop.width + 2 * margin) }
        let dataset = try Dataset(source: try DataSource.parse(data), options: DatasetOptions(
            preprocess: spec, layout: PreprocessOptions.layout(input), labelsPath: request.labels, threads: threads,
            skipBad: request.skipBad, limits: try PreprocessOptions.limits(arguments), syntheticShape: input.sampleShape))
        let (sh, sw) = input.layout == .nchw ? (input.sampleShape[1], input.sampleShape[2]) : (input.sampleShape[0], input.sampleShape[1])
        let channels = input.sampleShape.reduce(1, *) / (sh * sw)
        let bytes = dataset.count * channels * (sh + 2 * margin) * (sw + 2 * margin) * 4
        guard bytes <= maxBytes else {
            throw CLIError.input("\(data): \(dataset.count) training inputs take \(bytes >> 20) MiB in memory: expected at most --max-memory \(maxBytes >> 20) MiB; raise --max-memory")
        }
        let all = try dataset.readAll().inputs
        let count = all.shape[0]
        guard count > 0 else { throw CLIError.input("\(data): expected at least one readable input, got none") }
        let (values, labels, itemShape) = (all.values, all.labels ?? [], Array(all.shape.dropFirst()))
        let hasLabels = dataset.labels != nil
        if itemShape == input.sampleShape {
            return try TrainingSet.reflectPadded(values, count: count, sampleShape: input.sampleShape, layout: input.layout, margin: margin,
                                                 labels: hasLabels ? labels : nil)
        }
        let enlarged = input.layout == .nchw ? [channels, sh + 2 * margin, sw + 2 * margin] : [sh + 2 * margin, sw + 2 * margin, channels]
        guard itemShape == enlarged else {
            throw CLIError.input("\(data): inputs are shaped \(itemShape), expected the model's \(input.sampleShape)")
        }
        return try TrainingSet(stored: values, count: count, sampleShape: input.sampleShape, layout: input.layout, margin: margin,
                               labels: hasLabels ? labels : nil)
    }

    static func validationSet(data: String, labelsPath: String?, skipBad: Bool, _ arguments: ParsedArguments, model: LoadedModel, teacher: TeacherModel?,
                              batch: Int, threads: Int) throws -> ValidationSet {
        guard let input = model.input else { throw CLIError.input("\(model.path): graph: expected an input") }
        let batches = try DataBatches.read(data: data, labelsPath: labelsPath, preprocess: try PreprocessOptions.spec(arguments, input: input),
                                           skipBad: skipBad, arguments, model: model, batch: batch, threads: threads, maxInputs: nil)
        let labels = batches.allSatisfy { $0.labels != nil } ? batches.map { $0.labels! } : nil
        let teacherLogits = try teacher.map { t in try batches.map { try t.logits($0.input) } }
        guard labels != nil || teacherLogits != nil else {
            throw CLIError.input("\(data): --val needs something to compare with: --val-labels, class folders, or --teacher")
        }
        return ValidationSet(batches: batches.map(\.input), labels: labels, teacherLogits: teacherLogits)
    }

    /// `--val`'s inputs, or the training inputs themselves (centre crops) when none is given.
    static func validation(_ request: FinetuneRequest, _ arguments: ParsedArguments, model: LoadedModel, teacher: TeacherModel?,
                           training: TrainingSet, console: Console) throws -> ValidationSet {
        let threads = request.settings.threads
        if let val = request.validation {
            return try validationSet(data: val, labelsPath: request.validationLabels, skipBad: request.skipBad, arguments, model: model,
                                     teacher: teacher, batch: request.batch, threads: threads)
        }
        if !request.quiet {
            console.printError("note: no --val: validating on the training inputs (centre crops); give --val with held-out inputs for figures that generalise")
        }
        do { return try ValidationSet(training: training, batch: request.batch, teacher: teacher?.logitsFunction) } catch {
            throw CLIError.input("\(request.data ?? ""): \(error)")
        }
    }

    static func checkpoint(_ path: String) throws(CLIError) -> TrainingCheckpoint {
        do { return try TrainingCheckpoint.read(path: path) } catch { throw CLIError.input("\(error)") }
    }

    /// `--lr` not given: the probe's rate, said on standard error with what each candidate gave.
    static func probeLearningRate(student: Graph, settings: FineTuneSettings, data: TrainingSet, teacher: TeacherLogits?,
                                  validation: ValidationSet, start: Evaluation, quiet: Bool, console: Console) throws -> Float {
        if !quiet { console.printError("finding the learning rate: one step from the start per candidate, judged on validation") }
        let outcome: LearningRateProbe.Outcome
        do { outcome = try LearningRateProbe.choose(graph: student, settings: settings, data: data, teacher: teacher, validation: validation, start: start) } catch {
            throw CLIError.input("\(error)")
        }
        if !quiet {
            for trial in outcome.trials { console.printError("  lr \(trial.rate): " + FinetuneText.evaluation(trial.evaluation)) }
        }
        if !outcome.passed {
            console.printError("warning: every learning rate tried made the first step validate worse; training at the smallest, \(outcome.rate) (give --lr to choose)")
        } else if !quiet {
            console.printError("lr \(outcome.rate): the largest whose first step validates no worse")
        }
        return outcome.rate
    }

    /// `--recalibrate N`: BatchNormalization statistics re-estimated on the first N training
    /// inputs (centre crops) before the first epoch. The recalibrated model becomes the starting
    /// point only when it validates better; returns whether it did.
    static func recalibrate(_ student: inout Graph, before: inout Evaluation, inputs: Int, training: TrainingSet, validation: ValidationSet,
                            request: FinetuneRequest, console: Console) throws -> Bool {
        let batches = training.plainBatches(first: inputs, batch: request.batch)
        var candidate = student
        do { try Recalibration.batchNormalization(&candidate, batches: batches, threads: request.settings.threads) } catch { throw CLIError.input("\(error)") }
        let evaluation = try validation.evaluate(candidate, threads: request.settings.threads)
        guard evaluation.isBetter(than: before) else {
            console.print("recalibrated on \(min(inputs, training.count)) inputs: " + FinetuneText.evaluation(evaluation) + "; not better: starting from the model as given")
            return false
        }
        console.print("recalibrated on \(min(inputs, training.count)) inputs: " + FinetuneText.evaluation(evaluation) + "; starting from the recalibrated model")
        (student, before) = (candidate, evaluation)
        return true
    }

    /// The checkpoint's fingerprint: the request's recorded options, and what they name — the
    /// files' contents, the resolved preprocessing and crop margin, the output kind.
    static func fingerprint(_ request: FinetuneRequest, _ arguments: ParsedArguments, modelPath: String, inputs: Int, margin: Int,
                            input: GraphInput, outputKind: OutputKind?) throws -> String {
        try [SHA256.hex(ofFile: modelPath), request.teacher.map { try SHA256.hex(ofFile: $0) } ?? "-", "\(inputs)", "\(margin)",
             PreprocessOptions.describe(try PreprocessOptions.spec(arguments, input: input)), request.fingerprint].joined(separator: "|")
            + (outputKind.map { "|output:\($0.rawValue)" } ?? "")
    }
}
