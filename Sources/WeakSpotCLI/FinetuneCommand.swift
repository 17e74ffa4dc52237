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
        options: [
            .value("data", "data", help: "Training inputs: a .npy file, an image folder, class folders or synthetic:N[:SEED]."),
            .value("labels", "file", help: "Training labels: a .npy of integers or a text file with one integer per line."),
            .value("teacher", "model", help: "The original model to distil from (same input and output shapes)."),
            .value("output", short: "o", "tuned.onnx", help: "Where to write the trained model."),
            .value("epochs", "n", help: "Passes over the training data.", default: "5"),
            .value("batch", "b", help: "Inputs per update.", default: "32"),
            .value("optimizer", "name", help: "adam, adamw or sgd.", default: "adam"),
            .value("lr", "rate", help: "Learning rate.", default: "0.001 (adam, adamw), 0.01 (sgd)"),
            .value("weight-decay", "w", help: "L2 term (adam, sgd) or decoupled decay (adamw).", default: "0"),
            .value("momentum", "m", help: "SGD momentum.", default: "0.9"),
            .value("schedule", "name", help: "constant, or cosine decay to 0 over the run.", default: "constant"),
            .value("temperature", "T", help: "Distillation temperature.", default: "1"),
            .value("alpha", "a", help: "Weight of distillation when labels and a teacher are both given.", default: "0.5"),
            .value("bn", "mode", help: "train (batch statistics, running ones updated) or frozen.", default: "train"),
            .value("bn-momentum", "m", help: "Running-statistics momentum, PyTorch's convention.", default: "0.1"),
            .value("augment", "list", help: "Any of crop, flip, mixup (distillation only), or none.", default: "crop,flip"),
            .value("crop-margin", "px", help: "Random-crop freedom on every side.", default: "input height / 14 (16 at 224)"),
            .flag("no-shuffle", help: "Visit the inputs in their order every epoch."),
            .value("seed", "n", help: "Seed of the order and the augmentation.", default: "0"),
            .value("val", "data", help: "Held-out inputs evaluated before training and after each epoch."),
            .value("val-labels", "file", help: "Labels of --val."),
            .value("checkpoint", "file", help: "Checkpoint file.", default: "<output>.checkpoint"),
            .flag("resume", help: "Continue from the checkpoint when it exists."),
            .value("history", "file", help: "Write the per-epoch losses and validation figures as JSON."),
            .value("threads", "t", help: "Threads.", default: "all cores"),
            .value("max-memory", "MiB", help: "Refuse training data whose in-memory copy would be larger.", default: "8192"),
        ] + PreprocessOptions.specs + [
            .flag("skip-bad", help: "Skip images that cannot be decoded instead of stopping."),
            .flag("quiet", short: "q", help: "No progress on standard error."),
            ModelOptions.inputShape,
            ModelIOOptions.outputKind,
        ] + ModelOptions.limits)

    static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
        guard arguments.positionals.count == 1 else { throw arguments.usageError("expected one model") }
        guard let data = arguments.value("data") else { throw arguments.usageError("missing option '--data <data>'") }
        let (output, checkpointPath, history) = try FinetuneOptions.outputs(arguments, console: console)
        let settings = try FinetuneOptions.settings(arguments)
        let quiet = arguments.flag("quiet")
        let modelPath = arguments.positionals[0]
        let limits = try ModelOptions.limits(arguments)
        let inputShape = try ModelOptions.inputShape(arguments)
        let (model, onnx) = try LoadedModel.loadWithONNX(path: modelPath, limits: limits, inputShape: inputShape)
        let outputKind = try ModelIOOptions.outputKind(arguments)
        guard let input = model.input else { throw CLIError.input("\(modelPath): graph: expected an input") }

        let teacherPath = arguments.value("teacher")
        let teacher = try teacherPath.map { path throws -> TeacherModel in
            try TeacherModel(model: LoadedModel.load(path: path, limits: limits, inputShape: inputShape), student: model, outputKind: outputKind, threads: settings.threads)
        }
        if arguments.value("labels") == nil && !ProfileCommand.isClassFolder(data) && teacher == nil {
            throw arguments.usageError("nothing to learn from: give --labels FILE (or class folders as --data) or --teacher ORIGINAL.onnx")
        }
        try FinetuneOptions.checkWriteBack(model: model, onnx: onnx, path: modelPath)

        let margin = try FinetuneOptions.cropMargin(arguments, input: input)
        let trainingSet = try FinetuneData.trainingSet(data: data, arguments, model: model, margin: margin, threads: settings.threads,
                                                       maxBytes: try arguments.integer("max-memory", default: 8192, in: 16...16_777_216) << 20)
        let validation = try arguments.value("val").map { val in
            try FinetuneData.validationSet(data: val, labelsPath: arguments.value("val-labels"), arguments, model: model, teacher: teacher,
                                           batch: settings.batchSize, threads: settings.threads)
        }

        let tuner: FineTuner
        do {
            var teacherLogits: TeacherLogits? = nil
            if let teacher { teacherLogits = { x in try teacher.logits(x) } }
            tuner = try FineTuner(graph: LogitsGraph.logits(model.graph, kind: outputKind), settings: settings, data: trainingSet, teacher: teacherLogits)
        } catch { throw CLIError.input("\(modelPath): \(error)") }
        let fingerprint = try [SHA256.hex(ofFile: modelPath), teacherPath.map { try SHA256.hex(ofFile: $0) } ?? "-", data,
                               arguments.value("labels") ?? "-", "\(trainingSet.count)", "\(margin)",
                               PreprocessOptions.describe(try PreprocessOptions.spec(arguments, input: input)), settings.fingerprintText].joined(separator: "|")
            + (outputKind.map { "|output:\($0.rawValue)" } ?? "")
        if arguments.flag("resume"), FileManager.default.fileExists(atPath: checkpointPath) {
            do { try tuner.restore(try TrainingCheckpoint.read(path: checkpointPath), fingerprint: fingerprint, path: checkpointPath) } catch {
                throw CLIError.input("\(error)")
            }
            if !quiet { console.printError("resuming \(checkpointPath): epoch \(tuner.progress.epochsDone + 1), step \(tuner.progress.stepInEpoch + 1) of \(tuner.stepsPerEpoch)") }
        }

        let params = tuner.parameters.elementCount(in: tuner.graph)
        if !quiet {
            let source = teacher != nil ? (trainingSet.labels != nil ? "labels and distillation from \(teacherPath!)" : "distillation from \(teacherPath!)") : "labels"
            console.printError("fine-tuning \(NumberText.grouped(params)) parameters (\(tuner.parameters.parameters.count) tensors) of \(modelPath) on \(trainingSet.count) inputs, \(settings.epochs) epochs of \(tuner.stepsPerEpoch) steps; loss: \(source)")
        }
        var before: Evaluation? = nil
        if let validation {
            before = try validation.evaluate(tuner.graph, threads: settings.threads)
            console.print("before: " + FinetuneText.evaluation(before!))
        }

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
            if let validation { tuner.recordValidation(try validation.evaluate(tuner.graph, threads: settings.threads)) }
            progress.clear()
            console.print(FinetuneText.epoch(tuner.progress.history.last!, of: settings.epochs))
            try tuner.checkpoint(fingerprint: fingerprint).write(to: checkpointPath)
        }
        progress.finish()

        try FinetuneOptions.writeModel(onnx, trained: tuner, to: output)
        if let history {
            try OutputFile.write(FinetuneText.historyJSON(tuner.progress.history, before: before, settings: settings).rendered(), to: history, console: console)
        }
        try? FileManager.default.removeItem(atPath: checkpointPath)
        console.print("tuned model: \(output)")
        return ExitCode.success
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
