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
        statistics and updates its running ones (--bn train, as model.train()) or stays frozen. \
        A checkpoint is saved after every epoch and on Ctrl-C; --resume continues it and ends with \
        the same model an uninterrupted run gives. --val reports, before training and after each \
        epoch, top-1 agreement with the teacher and KL (with --teacher) and accuracy (with \
        --val-labels or class folders).
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
        let (output, checkpointPath, history) = try FinetuneOptions.outputs(arguments, console: console)
        let settings = request.settings
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
        let validation = try request.validation.map { val in
            try FinetuneData.validationSet(data: val, labelsPath: request.validationLabels, skipBad: request.skipBad, arguments, model: model,
                                           teacher: teacher, batch: settings.batchSize, threads: settings.threads)
        }
        let tuner: FineTuner
        do {
            var teacherLogits: TeacherLogits? = nil
            if let teacher { teacherLogits = { x in try teacher.logits(x) } }
            tuner = try FineTuner(graph: LogitsGraph.logits(model.graph, kind: outputKind), settings: settings, data: trainingSet, teacher: teacherLogits)
        } catch { throw CLIError.input("\(modelPath): \(error)") }
        // The request's recorded options, and what they name: the files' contents and the
        // resolved preprocessing and crop margin.
        let fingerprint = try [SHA256.hex(ofFile: modelPath), request.teacher.map { try SHA256.hex(ofFile: $0) } ?? "-", "\(trainingSet.count)", "\(margin)",
                               PreprocessOptions.describe(try PreprocessOptions.spec(arguments, input: input)), request.fingerprint].joined(separator: "|")
            + (outputKind.map { "|output:\($0.rawValue)" } ?? "")
        if request.resume, FileManager.default.fileExists(atPath: checkpointPath) {
            do { try tuner.restore(try TrainingCheckpoint.read(path: checkpointPath), fingerprint: fingerprint, path: checkpointPath) } catch {
                throw CLIError.input("\(error)")
            }
            if !request.quiet { console.printError("resuming \(checkpointPath): epoch \(tuner.progress.epochsDone + 1), step \(tuner.progress.stepInEpoch + 1) of \(tuner.stepsPerEpoch)") }
        }
        if !request.quiet {
            let source = teacher != nil ? (trainingSet.labels != nil ? "labels and distillation from \(request.teacher!)" : "distillation from \(request.teacher!)") : "labels"
            console.printError("fine-tuning \(NumberText.grouped(tuner.parameters.elementCount(in: tuner.graph))) parameters (\(tuner.parameters.parameters.count) tensors) of \(modelPath) on \(trainingSet.count) inputs, \(settings.epochs) epochs of \(tuner.stepsPerEpoch) steps; loss: \(source)")
        }
        let before = try validation.map { v in try v.evaluate(tuner.graph, threads: settings.threads) }
        if let before { console.print("before: " + FinetuneText.evaluation(before)) }
        try train(tuner, validation: validation, fingerprint: fingerprint, checkpointPath: checkpointPath, quiet: request.quiet, console: console)
        do { try OutputFile.write(Data(try TrainingExport.export(onnx, trained: tuner).encoded()), to: output) } catch let e as PruningError {
            throw CLIError.internal("writing the trained constants: \(e)")
        }
        if let history {
            try OutputFile.write(FinetuneText.historyJSON(tuner.progress.history, before: before, settings: settings).rendered(), to: history, console: console)
        }
        try? FileManager.default.removeItem(atPath: checkpointPath)
        console.print("tuned model: \(output)")
        return ExitCode.success
    }

    /// Steps until every epoch is done: a checkpoint after each epoch and on Ctrl-C, validation
    /// after each epoch.
    static func train(_ tuner: FineTuner, validation: ValidationSet?, fingerprint: String, checkpointPath: String, quiet: Bool, console: Console) throws {
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
            if let validation { tuner.recordValidation(try validation.evaluate(tuner.graph, threads: tuner.settings.threads)) }
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
}
