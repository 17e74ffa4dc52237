import Foundation
import Pruning
import Quantization
import Support

/// Everything `weakspot plan` is asked to do, one field per option, each declared once in
/// `declarations` (help, parsing, validation, the plan's `settings`).
public struct PlanRequest: OptionRequest {
    public var target: PlanTarget? = nil
    /// `--data`: inputs to verify the plan on; nil plans without measuring.
    public var data: String? = nil
    public var labels: String? = nil
    /// Criterion, limits and admission rules; `threads` is resolved by `options`.
    public var plan = PlanOptions()
    public var steps = 1
    /// `--recalibrate N`: verify candidates after BatchNormalization recalibration on N inputs.
    public var recalibrate: Int? = nil
    /// `--recalibration`: how (RecalibrationRule); nil picks by the model.
    public var recalibration: RecalibrationRule? = nil
    public var maxInputs: Int? = nil
    public var batch = 16
    public var threads: Int? = nil
    public var output = "plan.json"
    /// `--export-torch`: where to write the plan as Torch-Pruning entries on the nn.Module (`TorchExport`).
    public var exportTorch: String? = nil
    /// `--export-nni`: where to write the plan as NNI's config list.
    public var exportNNI: String? = nil
    /// `--quantize`: plan bits per layer (from a `quantize:` sweep report) instead of removals.
    public var quantize = false
    /// `--quantize-activations B`: verify (and record) activations quantized at B bits.
    public var quantizeActivations: Int? = nil
    public var calibration: PlanCalibration = .minmax
    /// `--float-rung`: a rung above the sweep's most bits, where a layer's weights stay float.
    public var floatRung = false
    /// `--calibrate DATA`: calibrate activation ranges on these inputs instead of `--data`, so a
    /// plan can be verified on held-out inputs that calibration never saw.
    public var calibrate: String? = nil
    public var force = false
    public var skipBad = false
    public var quiet = false

    public init() {}

    /// The planner's options with `--target` and `--threads` resolved.
    public var options: PlanOptions {
        var o = plan
        o.target = target
        o.threads = threads ?? ProcessInfo.processInfo.activeProcessorCount
        return o
    }

    public func validate() throws(OptionError) {
        if quantize {
            if let t = target, case .quantization = t {} else if let t = target {
                throw OptionError("--quantize plans bits: --target bits=B (average bits per weight) or size=BYTES, not \(t)")
            }
            guard plan.criterion == .measured || plan.criterion == .mse else {
                throw OptionError("--quantize ranks layers by --criterion measured (the report's bits sweep) or mse (weight error), not \(plan.criterion.rawValue)")
            }
            for (set, name) in [(steps > 1, "--steps"), (recalibrate != nil, "--recalibrate"), (plan.uniform, "--uniform"),
                                (exportTorch != nil, "--export-torch"), (exportNNI != nil, "--export-nni")] where set {
                throw OptionError("\(name) is for pruning plans, not --quantize")
            }
        } else {
            if let t = target, case .quantization = t { throw OptionError("--target \(t) is a quantization target: add --quantize") }
            if plan.criterion == .mse { throw OptionError("--criterion mse ranks quantization widths: add --quantize") }
            if quantizeActivations != nil { throw OptionError("--quantize-activations needs --quantize") }
        }
        if floatRung && !quantize { throw OptionError("--float-rung is a rung of the bits ladder: add --quantize") }
        if calibration == .measured && quantizeActivations == nil {
            throw OptionError("--calibration measured chooses each activation's calibrator by its measured damage: add --quantize-activations B and --data")
        }
        if calibrate != nil && quantizeActivations == nil {
            throw OptionError("--calibrate gives activation ranges: add --quantize-activations B")
        }
        if quantizeActivations != nil && data == nil {
            throw OptionError("--quantize-activations calibrates activation ranges on --data: give --data")
        }
        guard target != nil || !plan.limits.isEmpty else {
            throw OptionError("expected --target macs=F or params=F (or bits=B, size=BYTES with --quantize), or a limit (--max-kl, --max-top1, --max-acc-drop)")
        }
        if !plan.limits.isEmpty && data == nil {
            throw OptionError("limits (--max-kl, --max-top1, --max-acc-drop) need --data to measure the plan on")
        }
        if steps > 1 && (data == nil || target == nil || plan.criterion != .measured || plan.uniform) {
            throw OptionError("--steps \(steps) re-measures the remaining groups between rounds: it needs --target, --data and --criterion measured (not --uniform)")
        }
        if plan.uniform && plan.criterion == .measured {
            throw OptionError("--uniform ranks within each layer by an estimator: give --criterion l1, l2 or bn")
        }
        if recalibrate != nil && data == nil {
            throw OptionError("--recalibrate measures candidates after recalibrating on --data: give --data")
        }
        if recalibration != nil && recalibrate == nil {
            throw OptionError("--recalibration chooses how --recalibrate N recalibrates: give --recalibrate N")
        }
        if plan.criterion == .taylor && data == nil {
            throw OptionError("--criterion taylor needs --data (gradients over the inputs)")
        }
    }

    static let limit = ValueParser<Double>.number(above: 0, expected: "a non-negative number").optional

    public static let declarations: [OptionDeclaration<PlanRequest>] = [
        .value("target", "what=F", \.target, PlanTarget.parser.optional, help: "Keep at most fraction F: macs=F or params=F; with --quantize bits=B (average bits per weight) or size=BYTES.",
               effect: .result, sample: "macs=0.5"),
        .value("data", "data", \.data, ValueParser<String>.text.optional,
               help: "Inputs to measure the plan on (a .npy file, an image folder, class folders, synthetic:N).", effect: .result, sample: "synthetic:2"),
        .value("labels", "file", \.labels, ValueParser<String>.text.optional,
               help: "Labels, for --max-acc-drop and per-class accuracy.", effect: .result, sample: "labels.npy"),
        .value("max-kl", "x", \.plan.limits.maxKL, limit, help: "Largest mean KL divergence of the pruned model's outputs.",
               effect: .result, settingsKey: "maxKL", sample: "0.1"),
        .value("max-top1", "x", \.plan.limits.maxTop1, limit, help: "Largest fraction of inputs whose top-1 class changes.",
               effect: .result, sample: "0.05"),
        .value("max-acc-drop", "x", \.plan.limits.maxAccDrop, limit, help: "Largest accuracy drop (needs labels).",
               effect: .result, sample: "0.01"),
        .value("criterion", "name", \.plan.criterion, .choice,
               help: "measured, l1, l2, bn or taylor (Torch-Pruning's TaylorImportance over --data); with --quantize measured or mse (weight error).", effect: .result, sample: "l1"),
        .flag("uniform", \.plan.uniform, help: "Remove the same fraction of every layer (by the criterion), as Li et al. 2017.", effect: .result),
        .value("min-channels", "k", \.plan.minChannels, .integer(in: 1...1_000_000), help: "Every layer keeps at least K channels.",
               effect: .result, sample: "2"),
        .value("max-layer-sparsity", "f", \.plan.maxLayerSparsity,
               .number(above: 0, inclusive: false, upTo: 1, inclusive: false, expected: "a number in (0, 1)"),
               help: "No layer loses more than this fraction.", effect: .result, sample: "0.5"),
        .value("round-to", "m", \.plan.roundTo, .integer(in: 1...4096), help: "Keep channel counts multiples of M.", effect: .result, sample: "8"),
        .value("keep", "glob", \.plan.keep, .list(of: .text), help: "Never prune layers matching these globs (comma-separated).",
               effect: .result, sample: "/conv1"),
        .flag("prune-first", \.plan.pruneFirst, help: "Allow pruning the first layer (kept by default).", effect: .result),
        .value("steps", "k", \.steps, .integer(in: 1...100), help: "Prune in K rounds, re-profiling between rounds.", effect: .result, sample: "2"),
        .value("recalibrate", "n", \.recalibrate, ValueParser<Int>.integer(in: 1...10_000_000).optional,
               help: "Verify candidates after recalibrating on the first N --data inputs (--recalibration).", effect: .result, sample: "2"),
        .value("recalibration", "rule", \.recalibration, ValueParser<RecalibrationRule>.choice.optional, help: RecalibrationRule.help,
               effect: .result, sample: "match"),
        .value("max-inputs", "n", \.maxInputs, ValueParser<Int>.integer(in: 1...10_000_000).optional, help: "Measure on at most N inputs.",
               effect: .result, sample: "4"),
        .value("batch", "b", \.batch, .integer(in: 1...4096), help: "Inputs per pass.", effect: .result, sample: "4"),
        .value("threads", "t", \.threads, ValueParser<Int>.integer(in: 1...1024).optional, help: "Threads.", effect: .presentation,
               default: "all cores", sample: "1"),
        .value("output", short: "o", "plan.json", \.output, .text, help: "Where to write the plan.", effect: .presentation, sample: "p.json"),
        .value("export-torch", "file", \.exportTorch, ValueParser<String>.text.optional,
               help: "Also write the plan as Torch-Pruning entries on the PyTorch module (docs/pytorch.md).", effect: .presentation,
               sample: "torch-prune.json"),
        .value("export-nni", "file", \.exportNNI, ValueParser<String>.text.optional,
               help: "Also write the plan's per-layer widths as NNI's config list (docs/pytorch.md).", effect: .presentation,
               sample: "nni.json"),
        .flag("quantize", \.quantize, help: "Plan bits per layer from a quantize:… sweep report (--target bits=B or size=BYTES).", effect: .result),
        .value("quantize-activations", "b", \.quantizeActivations, ValueParser<Int>.integer(in: 2...16).optional,
               help: "With --quantize: also quantize each planned layer's output activation to B bits (calibrated on --data).", effect: .result, sample: "8"),
        .value("calibrate", "data", \.calibrate, ValueParser<String>.text.optional,
               help: "With --quantize-activations: calibrate activation ranges on these inputs (default: --data).", effect: .result, sample: "synthetic:2"),
        .value("calibration", "method", \.calibration, .choice,
               help: "How activation ranges are calibrated: minmax, percentile or entropy (onnxruntime's calibrators, docs/quantization.md), or measured: for each activation the one of the three whose range does the least measured damage on --data.", effect: .result, sample: "percentile"),
        .flag("float-rung", \.floatRung,
              help: "With --quantize: a rung above the sweep's most bits where a layer's weights stay float (damage 0, 32 bits), paid for by other layers at fewer bits.", effect: .result),
        .flag("force", \.force, help: "Use a report made for another model file (sha256 differs).", effect: .presentation),
        .flag("skip-bad", \.skipBad, help: "Skip images that cannot be decoded.", effect: .result),
        .flag("quiet", short: "q", \.quiet, help: "No progress on standard error.", effect: .presentation),
    ]
}

/// `plan --calibration`: one of onnxruntime's calibrators for every activation, or `measured`:
/// for each activation the calibrator whose range does the least damage, measured on `--data`.
public enum PlanCalibration: String, Sendable, CaseIterable, Equatable {
    case minmax, percentile, entropy, measured

    /// The one method for every activation (nil for measured).
    public var method: CalibrationMethod? { CalibrationMethod(rawValue: rawValue) }
}

extension PlanTarget {
    static let parser = ValueParser<PlanTarget>(parse: { (text: String) throws(OptionError) -> PlanTarget in
        do throws(PlanError) { return try PlanTarget.parse(text) } catch { throw OptionError(error.description) }
    }, setting: { .string($0.description) }, text: { $0.description })
}
