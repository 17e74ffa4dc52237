import NetworkIR
import Support

/// What `weakspot quantize` is asked to do, each option declared once. The quantization itself
/// comes from the plan (`plan --quantize`) or, without one, from `--bits` (every quantizable layer
/// at B bits) and `--activations`; `--calibrate` is read only when activations are quantized.
public struct QuantizeRequest: OptionRequest {
    /// `-o`: where the QDQ model goes; required (a quantized model never silently overwrites a
    /// default-named file).
    public var output: String? = nil
    public var calibrate: String? = nil
    public var bits: Int? = nil
    public var activations: Int? = nil
    /// nil: the plan's, else per channel.
    public var granularity: QuantizationGranularity? = nil
    /// nil: the plan's, else minmax.
    public var calibration: CalibrationMethod? = nil
    public var maxInputs: Int? = nil
    public var batch = 16
    public var threads: Int? = nil
    public var skipBad = false
    public var quiet = false

    public init() {}

    public func validate() throws(OptionError) {
        guard output != nil else { throw OptionError("missing option '-o <model.qdq.onnx>'") }
        if activations != nil && bits == nil { throw OptionError("--activations goes with --bits (a plan says how its activations are quantized)") }
    }

    public static let declarations: [OptionDeclaration<QuantizeRequest>] = [
        .value("output", short: "o", "model.qdq.onnx", \.output, ValueParser<String>.text.optional, help: "Where to write the QDQ model.",
               effect: .presentation, sample: "q.onnx"),
        .value("calibrate", "data", \.calibrate, ValueParser<String>.text.optional,
               help: "Calibration inputs for the activation ranges (a .npy file, an image folder, class folders or synthetic:N[:SEED]); needed when activations are quantized.",
               effect: .result, sample: "synthetic:4"),
        .value("bits", "b", \.bits, ValueParser<Int>.integer(in: 2...16).optional,
               help: "Without a plan: every Conv, Gemm and MatMul weight at B bits (symmetric, stored as int8 up to 8 bits).", effect: .result, sample: "8"),
        .value("activations", "b", \.activations, ValueParser<Int>.integer(in: 2...16).optional,
               help: "Without a plan: quantize the activation after each quantized layer (8: uint8, the only width written).", effect: .result, sample: "8"),
        .value("granularity", "g", \.granularity, ValueParser<QuantizationGranularity>.choice.optional,
               help: "Weight scales per output channel or one per tensor.", effect: .result, default: "the plan's, else channel", sample: "tensor"),
        .value("calibration", "method", \.calibration, ValueParser<CalibrationMethod>.choice.optional,
               help: "How activation ranges are chosen: minmax, percentile or entropy, for every activation (replacing a plan's per-layer choices).", effect: .result, default: "the plan's, else minmax", sample: "percentile"),
        .value("max-inputs", "n", \.maxInputs, ValueParser<Int>.integer(in: 1...10_000_000).optional, help: "Calibrate on at most N inputs.",
               effect: .result, default: "all", sample: "2"),
        .value("batch", "b", \.batch, .integer(in: 1...4096), help: "Calibration inputs per pass.", effect: .presentation, sample: "2"),
        .value("threads", "t", \.threads, ValueParser<Int>.integer(in: 1...1024).optional, help: "Threads.", effect: .presentation,
               default: "all cores", sample: "1"),
        .flag("skip-bad", \.skipBad, help: "Skip calibration images that cannot be decoded.", effect: .result),
        .flag("quiet", short: "q", \.quiet, help: "No progress on standard error.", effect: .presentation),
    ]
}
