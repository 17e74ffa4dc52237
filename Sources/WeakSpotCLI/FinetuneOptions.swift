import Foundation
import NetworkIR
import ONNXFormat
import Pruning
import Training

/// `finetune`'s options as training settings, and the checks and the write that tie the trained
/// graph back to its ONNX file.
enum FinetuneOptions {
    static func settings(_ arguments: ParsedArguments) throws(CLIError) -> FineTuneSettings {
        let kind = OptimizerKind(rawValue: try arguments.choice("optimizer", OptimizerKind.allCases.map(\.rawValue), default: "adam"))!
        let rate = try number(arguments, "lr", default: kind == .sgd ? 0.01 : 0.001, positive: true)
        var optimizer = OptimizerSettings(kind: kind, learningRate: rate, weightDecay: try number(arguments, "weight-decay", default: 0))
        optimizer.momentum = try number(arguments, "momentum", default: 0.9)
        guard optimizer.momentum < 1 else { throw arguments.usageError("--momentum: expected a number in [0, 1), got \(optimizer.momentum)") }
        var settings = FineTuneSettings(epochs: try arguments.integer("epochs", default: 5, in: 1...100_000),
                                        batchSize: try arguments.integer("batch", default: 32, in: 1...4096), optimizer: optimizer)
        settings.schedule = LearningRateSchedule(rawValue: try arguments.choice("schedule", LearningRateSchedule.allCases.map(\.rawValue), default: "constant"))!
        settings.temperature = try number(arguments, "temperature", default: 1, positive: true)
        settings.alpha = try number(arguments, "alpha", default: 0.5)
        guard settings.alpha <= 1 else { throw arguments.usageError("--alpha: expected a number in [0, 1], got \(settings.alpha)") }
        settings.trainBatchNorm = try arguments.choice("bn", ["train", "frozen"], default: "train") == "train"
        settings.batchNormMomentum = try number(arguments, "bn-momentum", default: 0.1)
        guard settings.batchNormMomentum <= 1 else { throw arguments.usageError("--bn-momentum: expected a number in [0, 1], got \(settings.batchNormMomentum)") }
        let augment = (arguments.value("augment") ?? "crop,flip").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard Set(augment).isSubset(of: ["crop", "flip", "mixup", "none"]), !(augment.contains("none") && augment.count > 1) else {
            throw arguments.usageError("--augment: expected a list of crop, flip, mixup, or none, got '\(arguments.value("augment") ?? "")'")
        }
        settings.augment = AugmentSettings(randomCrop: augment.contains("crop"), flip: augment.contains("flip"), mixup: augment.contains("mixup"))
        settings.shuffle = !arguments.flag("no-shuffle")
        if let text = arguments.value("seed") {
            guard let seed = UInt64(text) else { throw arguments.usageError("--seed: expected a non-negative integer, got '\(text)'") }
            settings.seed = seed
        }
        settings.threads = try arguments.integer("threads", default: ProcessInfo.processInfo.activeProcessorCount, in: 1...1024)
        return settings
    }

    static func number(_ arguments: ParsedArguments, _ name: String, default value: Float, positive: Bool = false) throws(CLIError) -> Float {
        guard let text = arguments.value(name) else { return value }
        guard let v = Float(text), v.isFinite, positive ? v > 0 : v >= 0 else {
            throw arguments.usageError("--\(name): expected a \(positive ? "positive" : "non-negative") number, got '\(text)'")
        }
        return v
    }

    /// `--crop-margin`, default ⌊input height / 14⌋ (16 pixels at 224).
    static func cropMargin(_ arguments: ParsedArguments, input: GraphInput) throws(CLIError) -> Int {
        let (_, height, width) = PreprocessOptions.imageSize(input)
        guard let height, let width else { throw CLIError.input("finetune: expected an image input (N, C, H, W) or (N, H, W, C), got \(input.sampleShape)") }
        let margin = try arguments.integer("crop-margin", default: height / 14, in: 0...4096)
        guard margin < min(height, width) else {
            throw arguments.usageError("--crop-margin: expected less than the input's \(height)×\(width), got \(margin)")
        }
        return margin
    }

    /// The constants training changes, by ONNX name: every trainable parameter, and the running
    /// statistics when BatchNormalization trains.
    static func changedConstants(_ graph: Graph, parameters: TrainableParameters, runningStatistics: Bool) -> [(name: String, value: ValueID)] {
        var list = parameters.parameters.map { (name: $0.name, value: $0.value) }
        if runningStatistics {
            for slot in parameters.runningStatistics {
                list.append((graph.values[slot.mean].name, slot.mean))
                list.append((graph.values[slot.variance].name, slot.variance))
            }
        }
        return list
    }

    /// Refuses, before any training, a model whose trainable constants are not stored in the file
    /// as the graph sees them (computed from other tensors, or not float32): their trained values
    /// could not be written back.
    static func checkWriteBack(model: LoadedModel, onnx: ONNXModel, path: String) throws(CLIError) {
        let parameters = TrainableParameters(graph: model.graph)
        for (name, value) in changedConstants(model.graph, parameters: parameters, runningStatistics: true) {
            let stored: [Float]?
            do { stored = try onnx.floatConstant(named: name) } catch { throw CLIError.input("\(path): \(error)") }
            guard let stored else {
                throw CLIError.input("\(path): constant '\(name)' is computed in the model file, not stored: fine-tuned values could not be written back")
            }
            guard stored == model.graph.constants[value]?.storage else {
                throw CLIError.input("\(path): constant '\(name)' is stored in another form than the graph uses: fine-tuned values could not be written back")
            }
        }
    }

    /// The original ONNX file with the trained constants written in, atomically.
    /// The trained model's file (`-o`, binary), the checkpoint (default: the model's path +
    /// `.checkpoint`) and `--history` (text, may be `-`), resolved before any training.
    static func outputs(_ arguments: ParsedArguments, console: Console) throws(CLIError) -> (model: String, checkpoint: String, history: OutputDestination?) {
        let model = OutputOption(option: "output", defaultName: "tuned.onnx", content: .binary)
        guard let modelPath = try OutputFile.resolve(arguments, model, console: console)?.path else {
            throw arguments.usageError("missing option '-o <tuned.onnx>'")
        }
        let checkpoint = OutputOption(option: "checkpoint", defaultName: "finetune.checkpoint", content: .checkpoint)
        let resolved = try OutputFile.resolve(arguments, [(checkpoint, arguments.value("checkpoint") ?? modelPath + ".checkpoint"),
                                                          (OutputOption(option: "history", defaultName: "history.json"), arguments.value("history"))],
                                              console: console)
        return (modelPath, resolved[0]!.path!, resolved[1])
    }

    static func writeModel(_ onnx: ONNXModel, trained tuner: FineTuner, to path: String) throws {
        var values: [String: [Float]] = [:]
        for (name, value) in changedConstants(tuner.graph, parameters: tuner.parameters, runningStatistics: tuner.settings.trainBatchNorm) {
            values[name] = tuner.graph.constants[value]!.storage
        }
        let model: ONNXModel
        do { model = try onnx.replacingFloatConstants(values) } catch { throw CLIError.internal("writing the trained constants: \(error)") }
        try OutputFile.write(Data(model.encoded()), to: path)
    }
}
