import DataInput
import Dispatch
import Execution
import Foundation
import Influence
import NetworkIR
import ONNXFormat
import Pruning
import Support
import Training

/// `weakspot finetune MODEL --data DATA [--labels L | --teacher ORIGINAL] -o tuned.onnx`: trains
/// the model's parameters on the data (docs/finetune.md) and writes the same ONNX file with new
/// weights and BatchNormalization statistics.
enum FinetuneCommand: Command {
    static let spec = CommandSpec(
        name: "finetune",
        abstract: "Recover accuracy after pruning, with labels or by distillation.",
        discussion: """
        Trains every Conv/Gemm/MatMul weight and bias and every BatchNormalization scale and shift \
        with Adam, AdamW or SGD. With labels (--labels, or class folders) the loss is \
        cross-entropy; with --teacher (the original, unpruned model) it is the distillation loss \
        T²·KL(teacher ‖ student) at temperature T; with both, alpha·distillation + \
        (1 − alpha)·cross-entropy. Each epoch visits the data in a seeded order, each input a \
        seeded random crop (the preprocessed image with --crop-margin more pixels on every side; \
        reflected borders for .npy tensors) flipped at random. BatchNormalization uses batch \
        statistics and updates its running ones (--bn train, as model.train()) or stays frozen; \
        --bn auto (the default) trains it only when a step sees 16 inputs or more. Without --lr, \
        the rate is probed: the largest of 1e-3, 3e-4 … 1e-6 (SGD: ten times those) whose first \
        step from the start validates no worse. \
        A checkpoint is saved after every epoch and on Ctrl-C; --resume continues it and ends with \
        the same model an uninterrupted run gives. Validation runs before training and after each \
        epoch on --val (default: the training inputs, centre-cropped): top-1 agreement with the \
        teacher and KL (with --teacher), accuracy and cross-entropy (with labels). --keep best \
        (the default) writes the best-validating weights, the starting ones included: a run in \
        which no epoch beat the start warns and writes the model unchanged. --early-stop K ends \
        the run after K epochs without improvement.
        """,
        usage: "finetune <model> --data <data> [--labels <file> | --teacher <original.onnx>] -o <tuned.onnx> [<options>]",
        arguments: [ArgumentSpec(name: "MODEL", help: "The ONNX model to train (typically a pruned one).")],
        options: FinetuneRequest.declarations.filter { FinetuneRequest.leading.contains($0.name) }.map(OptionSpec.init) + PreprocessOptions.specs
            + FinetuneRequest.declarations.filter { !FinetuneRequest.leading.contains($0.name) }.map(OptionSpec.init)
            + [ModelOptions.inputShape, ModelIOOptions.outputKind] + ModelOptions.limits)

    static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
        guard arguments.positionals.count == 1 else { throw arguments.usageError("expected one model") }
        let request = try arguments.request(FinetuneRequest.self)
        let data = request.data ?? ""
        let (output, checkpointPath, history) = try FinetuneOptions.outputs(request, arguments, console: console)
        var settings = request.settings
        let modelPath = arguments.positionals[0]
        let (limits, inputShape) = (try ModelOptions.limits(arguments), try ModelOptions.inputShape(arguments))
        let (model, onnx) = try LoadedModel.loadWithONNX(path: modelPath, limits: limits, inputShape: inputShape)
        let outputKind = try ModelIOOptions.outputKind(arguments)
        guard let input = model.input else { throw CLIError.input("\(modelPath): graph: expected an input") }
        let teacher = try request.teacher.map { path throws -> TeacherModel in
            try TeacherModel(model: LoadedModel.load(path: path, limits: limits, inputShape: inputShape), student: model, outputKind: outputKind, threads: settings.threads)
        }
        if request.labels == nil && !ProfileCommand.isClassFolder(data) && teacher == nil {
            throw arguments.usageError("nothing to learn from: give --labels FILE (or class folders as --data) or --teacher ORIGINAL.onnx")
        }
        try TrainingExport.checkWriteBack(graph: model.graph, onnx: onnx, path: modelPath)
        let margin = try FinetuneOptions.cropMargin(request, input: input)
        let trainingSet = try FinetuneData.trainingSet(data: data, request: request, arguments, model: model, margin: margin,
                                                       threads: settings.threads, maxBytes: request.maxMemory << 20)
        settings.trainBatchNorm = request.trainsBatchNorm(inputs: trainingSet.count)
        let teacherLogits = teacher.map(\.logitsFunction)
        var student: Graph
        do { student = try LogitsGraph.logits(model.graph, kind: outputKind) } catch { throw CLIError.input("\(modelPath): \(error)") }
        let validation = try FinetuneData.validation(request, arguments, model: model, teacher: teacher, training: trainingSet, console: console)
        var before = try validation.evaluate(student, threads: settings.threads)
        console.print("before: " + FinetuneText.evaluation(before))
        let recalibrated = try request.recalibrate.map { n in
            try FinetuneData.recalibrate(&student, before: &before, inputs: n, training: trainingSet, validation: validation, request: request, console: console)
        } ?? false
        let fingerprint = try FinetuneData.fingerprint(request, arguments, modelPath: modelPath, inputs: trainingSet.count, margin: margin,
                                                       input: input, outputKind: outputKind)
        let resumed = request.resume && FileManager.default.fileExists(atPath: checkpointPath) ? try FinetuneData.checkpoint(checkpointPath) : nil
        let probed = try request.learningRate == nil ? (resumed?.progress.probedLearningRate
            ?? FinetuneData.probeLearningRate(student: student, settings: settings, data: trainingSet, teacher: teacherLogits, validation: validation,
                                              start: before, quiet: request.quiet, console: console)) : nil
        if let probed { settings.optimizer.learningRate = probed }
        let tuner: FineTuner
        do { tuner = try FineTuner(graph: student, settings: settings, data: trainingSet, teacher: teacherLogits) } catch {
            throw CLIError.input("\(modelPath): \(error)")
        }
        if let resumed {
            do { try tuner.restore(resumed, fingerprint: fingerprint, path: checkpointPath) } catch { throw CLIError.input("\(error)") }
            if !request.quiet { console.printError("resuming \(checkpointPath): epoch \(tuner.progress.epochsDone + 1), step \(tuner.progress.stepInEpoch + 1) of \(tuner.stepsPerEpoch)") }
        }
        tuner.startSelection(before, probedLearningRate: probed)
        if !request.quiet { console.printError(FinetuneText.start(tuner, model: modelPath, teacher: request.teacher)) }
        try train(tuner, validation: validation, fingerprint: fingerprint, checkpointPath: checkpointPath, quiet: request.quiet, console: console)
        if request.keep == .best { tuner.restoreBest() }
        FinetuneText.outcome(tuner, keep: request.keep, console: console)
        do { try OutputFile.write(Data(try TrainingExport.export(onnx, trained: tuner, statistics: recalibrated).encoded()), to: output) } catch let e as PruningError {
            throw CLIError.internal("writing the trained constants: \(e)")
        }
        if let history {
            try OutputFile.write(FinetuneText.historyJSON(tuner.progress, before: before, keep: request.keep, settings: settings).rendered(),
                                 to: history, console: console)
        }
        try? FileManager.default.removeItem(atPath: checkpointPath)
        console.print("tuned model: \(output)")
        return ExitCode.success
    }

    /// Steps until every epoch is done: a checkpoint after each epoch and on Ctrl-C, validation
    /// after each epoch.
    static func train(_ tuner: FineTuner, validation: ValidationSet, fingerprint: String, checkpointPath: String, quiet: Bool, console: Console) throws {
        InterruptSignal.install()
        defer { InterruptSignal.uninstall() }
        let progress = ProgressReporter(console: console, total: tuner.totalSteps, unit: "steps", quiet: quiet)
        var lastDraw = 0.0
        let started = DispatchTime.now().uptimeNanoseconds
        while !tuner.isFinished {
            if InterruptSignal.received {
                try tuner.checkpoint(fingerprint: fingerprint).write(to: checkpointPath)
                progress.finish()
                throw CLIError.interrupted("interrupted at epoch \(tuner.progress.epochsDone + 1), step \(tuner.progress.stepInEpoch) of \(tuner.stepsPerEpoch); checkpoint saved to \(checkpointPath): run again with --resume to continue")
            }
            let (loss, endedEpoch) = try tuner.step()
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            if endedEpoch || elapsed - lastDraw >= 1 {
                lastDraw = elapsed
                progress.update(done: tuner.progress.globalStep, detail: "loss \(NumberText.fixed(loss, decimals: 4))")
            }
            guard endedEpoch else { continue }
            tuner.recordValidation(try validation.evaluate(tuner.graph, threads: tuner.settings.threads))
            progress.clear()
            console.print(FinetuneText.epoch(tuner.progress.history.last!, of: tuner.settings.epochs))
            try tuner.checkpoint(fingerprint: fingerprint).write(to: checkpointPath)
        }
        progress.finish()
    }
}

/// The original model as the teacher: checked against the student's input and output shapes,
/// run by the inference engine, its logits taken before a final Softmax.
struct TeacherModel: Sendable {
    let plan: ExecutionPlan
    let path: String

    /// `outputKind` (nil: read from each graph) says what both models' outputs hold.
    init(model: LoadedModel, student: LoadedModel, outputKind: OutputKind?, threads: Int) throws {
        path = model.path
        guard model.input?.sampleShape == student.input?.sampleShape else {
            throw CLIError.input("\(model.path): expected the student's input shape \(student.input?.sampleShape ?? []), got \(model.input?.sampleShape ?? [])")
        }
        let t: Graph, st: Graph
        do { (t, st) = (try LogitsGraph.logits(model.graph, kind: outputKind), try LogitsGraph.logits(student.graph, kind: outputKind)) } catch {
            throw CLIError.input("\(model.path): \(error)")
        }
        do { plan = try ExecutionPlan(graph: t, options: ExecutionOptions(threads: threads)) } catch {
            throw CLIError.input("\(model.path): \(error)")
        }
        let teacherShape = try t.outputs.first.flatMap { try t.inferShapes(batch: 1)[$0] }
        let studentShape = try st.outputs.first.flatMap { try st.inferShapes(batch: 1)[$0] }
        guard let teacherShape, teacherShape == studentShape, teacherShape.count == 2 else {
            throw CLIError.input("\(model.path): expected logits shaped like the student's \(studentShape ?? []) (N, classes), got \(teacherShape ?? [])")
        }
    }

    func logits(_ input: Tensor) throws -> Tensor { try plan.run(input)[0] }

    /// `logits(_:)` as the closure the library's training and validation take.
    var logitsFunction: TeacherLogits { { [self] x in try self.logits(x) } }
}
