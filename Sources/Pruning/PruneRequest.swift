import Support

/// What `weakspot prune` is asked to do, each option declared once. Pruning computes nothing
/// statistical: every option is presentation except `--force`, which decides whether a plan made
/// for another model file is applied.
public struct PruneRequest: OptionRequest {
    /// `-o`: where the pruned model goes; required (a pruned model never silently overwrites a
    /// default-named file).
    public var output: String? = nil
    public var force = false

    public init() {}

    public func validate() throws(OptionError) {
        guard output != nil else { throw OptionError("missing option '-o <pruned.onnx>'") }
    }

    public static let declarations: [OptionDeclaration<PruneRequest>] = [
        .value("output", short: "o", "pruned.onnx", \.output, ValueParser<String>.text.optional, help: "Where to write the pruned model.",
               effect: .presentation, sample: "p.onnx"),
        .flag("force", \.force, help: "Apply the plan even if it names another model's sha256.", effect: .result),
    ]
}
