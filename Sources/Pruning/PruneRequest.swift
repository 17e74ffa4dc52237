import Support

/// What `weakspot prune` is asked to do, each option declared once. Pruning itself computes
/// nothing statistical; `--recalibrate N --data DATA` then recalibrates the pruned model on N
/// inputs by the `--recalibration` rule (docs/recalibration.md).
public struct PruneRequest: OptionRequest {
    /// `-o`: where the pruned model goes; required (a pruned model never silently overwrites a
    /// default-named file).
    public var output: String? = nil
    public var force = false
    public var recalibrate: Int? = nil
    /// `--recalibration`: how (RecalibrationRule); nil picks by the model.
    public var recalibration: RecalibrationRule? = nil
    public var data: String? = nil
    public var batch = 16
    public var skipBad = false

    public init() {}

    public func validate() throws(OptionError) {
        guard output != nil else { throw OptionError("missing option '-o <pruned.onnx>'") }
        if recalibrate != nil && data == nil { throw OptionError("--recalibrate needs --data (the inputs to estimate the statistics on)") }
        if data != nil && recalibrate == nil { throw OptionError("--data is only read with --recalibrate N") }
        if recalibration != nil && recalibrate == nil { throw OptionError("--recalibration chooses how --recalibrate N recalibrates: give --recalibrate N") }
    }

    public static let declarations: [OptionDeclaration<PruneRequest>] = [
        .value("output", short: "o", "pruned.onnx", \.output, ValueParser<String>.text.optional, help: "Where to write the pruned model.",
               effect: .presentation, sample: "p.onnx"),
        .flag("force", \.force, help: "Apply the plan even if it names another model's sha256.", effect: .result),
        .value("recalibrate", "n", \.recalibrate, ValueParser<Int>.integer(in: 1...10_000_000).optional,
               help: "Recalibrate the pruned model on N inputs of --data (--recalibration).", effect: .result, sample: "4"),
        .value("recalibration", "rule", \.recalibration, ValueParser<RecalibrationRule>.choice.optional, help: RecalibrationRule.help,
               effect: .result, sample: "match"),
        .value("data", "data", \.data, ValueParser<String>.text.optional, help: "Inputs for --recalibrate.", effect: .result, sample: "synthetic:4"),
        .value("batch", "b", \.batch, .integer(in: 1...4096), help: "Inputs per recalibration batch (each normalises by its own statistics).",
               effect: .result, sample: "2"),
        .flag("skip-bad", \.skipBad, help: "Skip images that cannot be decoded.", effect: .result),
    ]
}
