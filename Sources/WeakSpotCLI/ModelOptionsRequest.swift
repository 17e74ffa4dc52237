import Influence
import ONNXFormat
import Support

/// The options every command that reads a model shares, declared once: the ONNX reader's safety
/// limits (their error messages name these options) and `--input-shape`.
struct ModelOptionsRequest: OptionRequest {
    var limits = ONNXLimits()
    /// `--input-shape` as integers (`1x3x224x224` or `1,3,224,224`); nil when absent.
    var inputShape: [Int]? = nil

    init() {}

    static let declarations: [OptionDeclaration<ModelOptionsRequest>] = [
        .value("input-shape", "shape", \.inputShape, shape.optional,
               help: "The full input shape, like 1x3x224x224, for models whose input has symbolic dimensions other than the batch; its first entry is the batch.",
               effect: .result, sample: "1x3x32x32"),
        .value("max-tensor-elements", "n", \.limits.maxTensorElements, .integer(in: 1...Int.max),
               help: "Refuse ONNX tensors with more elements.", effect: .result, sample: "100000000"),
        .value("max-nesting-depth", "n", \.limits.maxNestingDepth, .integer(in: 1...10_000),
               help: "Refuse ONNX files nesting unknown groups deeper.", effect: .result, sample: "32"),
        .value("max-string-bytes", "n", \.limits.maxStringBytes, .integer(in: 1...Int.max),
               help: "Refuse ONNX strings longer than this many bytes.", effect: .result, sample: "1000000"),
        .value("max-initializer-bytes-ratio", "r", \.limits.maxTotalInitializerBytesRatio,
               .number(above: 0, inclusive: false, expected: "a positive number"),
               help: "Refuse ONNX files whose declared initializer bytes exceed this multiple of the file's bytes.",
               effect: .result, default: "8", sample: "16"),
    ]

    /// `1x3x224x224` or `1,3,224,224`: positive dimensions up to 2^24.
    static let shape = ValueParser<[Int]>(parse: { (text: String) throws(OptionError) -> [Int] in
        let parts = text.lowercased().split(whereSeparator: { $0 == "x" || $0 == "," }).map(String.init)
        let dims = parts.compactMap { Int($0) }
        guard !parts.isEmpty, dims.count == parts.count, dims.allSatisfy({ $0 > 0 && $0 <= 1 << 24 }) else {
            throw OptionError("expected positive dimensions like 1x3x224x224, got '\(text)'")
        }
        return dims
    }, setting: { .string($0.map(String.init).joined(separator: "x")) }, text: { $0.map(String.init).joined(separator: "x") })
}

/// The options that say which inputs and outputs of a model WeakSpot uses and what the output
/// holds, declared once for every command that runs a model (`ModelInterface` and `OutputKind`
/// in the library do the work and write the errors).
struct ModelIORequest: OptionRequest {
    /// `--input NAME=FILE`: one model input fed from a file.
    struct NamedFile: Sendable, Equatable {
        var name: String
        var path: String
    }

    /// `--input`, in the order given; the files are read when the model is loaded.
    var inputs: [NamedFile] = []
    var outputName: String? = nil
    /// `--output-kind`; nil is auto (read from the graph).
    var outputKind: OutputKind? = nil

    init() {}

    static let declarations: [OptionDeclaration<ModelIORequest>] = [
        .repeated("input", "name=file.npy", \.inputs, namedFile,
                  help: "Feed the model input NAME from a .npy file (float32, or int64 for integer inputs), the same value for every sample; repeatable. --data feeds the one input left.",
                  effect: .result, sample: "x=x.npy"),
        .value("output-name", "name", \.outputName, ValueParser<String>.text.optional,
               help: "Of a model with several outputs, the one to use (default: the first; the choice is said on standard error).",
               effect: .result, sample: "logits"),
        .value("output-kind", "kind", \.outputKind, OutputKind.optionParser,
               help: "What the model's output holds: logits, probs (probabilities, the model ends in Softmax), log-probs, or auto (read from the graph).",
               effect: .result, default: "auto", sample: "logits"),
    ]

    /// `NAME=FILE`, both non-empty.
    static let namedFile = ValueParser<NamedFile>(parse: { (text: String) throws(OptionError) -> NamedFile in
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex, text.index(after: equals) != text.endIndex else {
            throw OptionError("expected NAME=FILE.npy, got '\(text)'")
        }
        return NamedFile(name: String(text[..<equals]), path: String(text[text.index(after: equals)...]))
    }, setting: { .string("\($0.name)=\($0.path)") }, text: { "\($0.name)=\($0.path)" })
}
