import Foundation
import Support

/// Everything `weakspot finetune` is asked to do, one field per option, each declared once
/// (help, parsing, validation and the checkpoint fingerprint come from `declarations`).
public struct FinetuneRequest: OptionRequest {
    public enum BatchNormMode: String, CaseIterable, Sendable { case auto, train, frozen }

    public var data: String? = nil
    public var labels: String? = nil
    /// `--teacher`: its SHA-256, not its path, goes into the fingerprint (the caller's identity).
    public var teacher: String? = nil
    public var output: String? = nil
    public var epochs = 5
    public var batch = 32
    public var optimizer = OptimizerKind.adam
    /// `--lr`; nil means the rate `LearningRateProbe` finds.
    public var learningRate: Float? = nil
    public var weightDecay: Float = 0
    public var momentum: Float = 0.9
    public var schedule = LearningRateSchedule.constant
    public var temperature: Float = 1
    public var alpha: Float = 0.5
    public var batchNorm = BatchNormMode.auto
    public var batchNormMomentum: Float = 0.1
    public var augment: [Augmentation] = [.crop, .flip]
    /// `--crop-margin`; nil means ⌊input height / 14⌋.
    public var cropMargin: Int? = nil
    public var noShuffle = false
    public var seed: UInt64 = 0
    public var validation: String? = nil
    public var validationLabels: String? = nil
    public var keep = KeepPolicy.best
    public var recalibrate: Int? = nil
    public var earlyStop: Int? = nil
    /// nil means `<output>.checkpoint`.
    public var checkpoint: String? = nil
    public var resume = false
    public var history: String? = nil
    public var threads: Int? = nil
    public var maxMemory = 8192
    public var skipBad = false
    public var quiet = false

    public init() {}

    /// `--augment`'s words.
    public enum Augmentation: String, CaseIterable, Sendable { case crop, flip, mixup, none }

    public var checkpointPath: String { checkpoint ?? (output ?? "") + ".checkpoint" }

    /// The training settings with the defaults that depend on other options resolved.
    public var settings: FineTuneSettings {
        var optimizerSettings = OptimizerSettings(kind: optimizer, learningRate: learningRate ?? LearningRateProbe.ladder(for: optimizer)[0],
                                                  weightDecay: weightDecay)
        optimizerSettings.momentum = momentum
        var s = FineTuneSettings(epochs: epochs, batchSize: batch, optimizer: optimizerSettings)
        s.schedule = schedule
        s.temperature = temperature
        s.alpha = alpha
        s.trainBatchNorm = batchNorm == .train
        s.batchNormMomentum = batchNormMomentum
        s.augment = AugmentSettings(randomCrop: augment.contains(.crop), flip: augment.contains(.flip), mixup: augment.contains(.mixup))
        s.shuffle = !noShuffle
        s.seed = seed
        s.threads = threads ?? ProcessInfo.processInfo.activeProcessorCount
        s.earlyStop = earlyStop
        return s
    }

    /// `--bn auto` trains BatchNormalization (batch statistics, running ones updated) only when
    /// every full step sees at least this many inputs: the statistics of fewer are too noisy to
    /// normalise with, and on the demo's 9 images a single train-mode step cost 11% top-1 agreement.
    public static let minimumBatchForBatchStatistics = 16

    /// Whether BatchNormalization trains, given the number of training inputs.
    public func trainsBatchNorm(inputs: Int) -> Bool {
        switch batchNorm {
        case .train: return true
        case .frozen: return false
        case .auto: return min(batch, inputs) >= Self.minimumBatchForBatchStatistics
        }
    }

    public func validate() throws(OptionError) {
        guard data != nil else { throw OptionError("missing option '--data <data>'") }
        guard output != nil else { throw OptionError("missing option '-o <tuned.onnx>'") }
        if augment.contains(.none) && augment.count > 1 {
            throw OptionError("--augment: expected a list of crop, flip, mixup, or none, got '\(augment.map(\.rawValue).joined(separator: ","))'")
        }
    }

    static let file = ValueParser<String>.text.optional
    static let fraction = ValueParser<Float>.number(above: 0, upTo: 1, expected: "a number in [0, 1]")
    static let augmentations = ValueParser<[Augmentation]>(parse: { (text: String) throws(OptionError) -> [Augmentation] in
        var list: [Augmentation] = []
        for word in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let a = Augmentation(rawValue: word.trimmingCharacters(in: .whitespaces)) else {
                throw OptionError("expected a list of crop, flip, mixup, or none, got '\(text)'")
            }
            list.append(a)
        }
        return list
    }, setting: { .strings($0.map(\.rawValue)) }, text: { $0.map(\.rawValue).joined(separator: ",") })

    public static let declarations: [OptionDeclaration<FinetuneRequest>] = [
        .value("data", "data", \.data, file, help: "Training inputs: a .npy file, an image folder, class folders or synthetic:N[:SEED].",
               effect: .result, sample: "synthetic:4"),
        .value("labels", "file", \.labels, file, help: "Training labels: a .npy of integers or a text file with one integer per line.",
               effect: .result, sample: "labels.txt"),
        .value("teacher", "model", \.teacher, file, help: "The original model to distil from (same input and output shapes).",
               effect: .result, sample: "original.onnx"),
        .value("output", short: "o", "tuned.onnx", \.output, file, help: "Where to write the trained model.", effect: .presentation, sample: "t.onnx"),
        .value("epochs", "n", \.epochs, .integer(in: 1...100_000), help: "Passes over the training data.", effect: .result, sample: "2"),
        .value("batch", "b", \.batch, .integer(in: 1...4096), help: "Inputs per update.", effect: .result, sample: "4"),
        .value("optimizer", "name", \.optimizer, .choice, help: "adam, adamw or sgd.", effect: .result, sample: "sgd"),
        .value("lr", "rate", \.learningRate, ValueParser<Float>.number(above: 0, inclusive: false, expected: "a positive number").optional,
               help: "Learning rate.", effect: .result, default: "the largest of 1e-3 … 1e-6 (sgd: 1e-2 … 1e-5) whose first step validates no worse", sample: "0.003"),
        .value("weight-decay", "w", \.weightDecay, .number(above: 0, expected: "a non-negative number"),
               help: "L2 term (adam, sgd) or decoupled decay (adamw).", effect: .result, default: "0", sample: "0.0001"),
        .value("momentum", "m", \.momentum, .number(above: 0, inclusive: true, upTo: 1, inclusive: false, expected: "a number in [0, 1)"),
               help: "SGD momentum.", effect: .result, sample: "0.5"),
        .value("schedule", "name", \.schedule, .choice, help: "constant, or cosine decay to 0 over the run.", effect: .result, sample: "cosine"),
        .value("temperature", "T", \.temperature, .number(above: 0, inclusive: false, expected: "a positive number"),
               help: "Distillation temperature.", effect: .result, default: "1", sample: "2"),
        .value("alpha", "a", \.alpha, fraction, help: "Weight of distillation when labels and a teacher are both given.",
               effect: .result, sample: "0.25"),
        .value("bn", "mode", \.batchNorm, .choice, help: "train (batch statistics, running ones updated), frozen, or auto: train when a step sees 16 inputs or more.",
               effect: .result, settingsKey: "batchNorm", sample: "frozen"),
        .value("bn-momentum", "m", \.batchNormMomentum, fraction, help: "Running-statistics momentum, PyTorch's convention.",
               effect: .result, settingsKey: "batchNormMomentum", sample: "0.2"),
        .value("augment", "list", \.augment, augmentations, help: "Any of crop, flip, mixup (distillation only), or none.",
               effect: .result, sample: "flip"),
        .value("crop-margin", "px", \.cropMargin, ValueParser<Int>.integer(in: 0...4096).optional, help: "Random-crop freedom on every side.",
               effect: .result, default: "input height / 14 (16 at 224)", sample: "2"),
        .flag("no-shuffle", \.noShuffle, help: "Visit the inputs in their order every epoch.", effect: .result),
        .value("seed", "n", \.seed, .seed, help: "Seed of the order and the augmentation.", effect: .result, sample: "3"),
        .value("val", "data", \.validation, file, help: "Held-out inputs evaluated before training and after each epoch (default: the training inputs, centre-cropped).",
               effect: .presentation, settingsKey: "validation", sample: "held.npy"),
        .value("val-labels", "file", \.validationLabels, file, help: "Labels of --val.", effect: .presentation,
               settingsKey: "validationLabels", sample: "held.txt"),
        .value("recalibrate", "n", \.recalibrate, ValueParser<Int>.integer(in: 1...10_000_000).optional,
               help: "Before the first epoch, re-estimate BatchNormalization statistics on N training inputs; kept when it validates better.",
               effect: .result, sample: "4"),
        .value("keep", "which", \.keep, .choice,
               help: "best (the best-validating weights, the starting ones included) or last (the last epoch's).", effect: .result, sample: "last"),
        .value("early-stop", "k", \.earlyStop, ValueParser<Int>.integer(in: 1...100_000).optional,
               help: "Stop after K epochs in a row that validate no better than the best.", effect: .result, sample: "2"),
        .value("checkpoint", "file", \.checkpoint, file, help: "Checkpoint file.", effect: .presentation,
               default: "<output>.checkpoint", sample: "c.ckpt"),
        .flag("resume", \.resume, help: "Continue from the checkpoint when it exists.", effect: .presentation),
        .value("history", "file", \.history, file, help: "Write the per-epoch losses and validation figures as JSON.",
               effect: .presentation, sample: "h.json"),
        .value("threads", "t", \.threads, ValueParser<Int>.integer(in: 1...1024).optional, help: "Threads.", effect: .presentation,
               default: "all cores", sample: "1"),
        .value("max-memory", "MiB", \.maxMemory, .integer(in: 16...16_777_216),
               help: "Refuse training data whose in-memory copy would be larger.", effect: .presentation, sample: "64"),
        .flag("skip-bad", \.skipBad, help: "Skip images that cannot be decoded instead of stopping.", effect: .result),
        .flag("quiet", short: "q", \.quiet, help: "No progress on standard error.", effect: .presentation),
    ]

    /// The options help lists before the preprocessing group (the rest follow it).
    public static let leading = declarations.prefix { $0.name != "skip-bad" }.map(\.name)
}
