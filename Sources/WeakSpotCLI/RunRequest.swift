import Foundation
import Support

/// What `weakspot run` is asked to do, each option declared once. Inference lives in this module
/// (`Inference`), so its request does too. `run` writes no checkpoint and no settings; the
/// effects still say which options change the numbers, for the docs and the tests.
struct RunRequest: OptionRequest {
    enum Format: String, CaseIterable, Sendable { case text, json }

    var data: String? = nil
    var top = 5
    var output: String? = nil
    var batch = 16
    var threads: Int? = nil
    var labels: String? = nil
    var skipBad = false
    var classes: String? = nil
    var format = Format.text
    var quiet = false

    init() {}

    var resolvedThreads: Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }

    func validate() throws(OptionError) {
        guard data != nil else { throw OptionError("missing option '--data <data>'") }
    }

    /// The options before the preprocessing group, and those after it (help keeps its order).
    static let leading = ["data", "top", "output", "batch", "threads"]

    static let declarations: [OptionDeclaration<RunRequest>] = [
        .value("data", "data", \.data, ValueParser<String>.text.optional,
               help: "The inputs: a .npy file, an image folder, class folders or synthetic:N[:SEED].", effect: .result, sample: "synthetic:2"),
        .value("top", "k", \.top, .integer(in: 1...1_000_000), help: "Classes to print per input.", effect: .presentation, sample: "2"),
        .value("output", short: "o", "logits.npy", \.output, ValueParser<String>.text.optional,
               help: "Write all logits, (N, classes) float32, to this .npy file.", effect: .presentation, sample: "l.npy"),
        .value("batch", "b", \.batch, .integer(in: 1...4096), help: "Inputs per batch.", effect: .presentation, sample: "4"),
        .value("threads", "t", \.threads, ValueParser<Int>.integer(in: 1...1024).optional, help: "Threads for decoding and the model.",
               effect: .presentation, default: "all cores", sample: "1"),
        .value("labels", "file", \.labels, ValueParser<String>.text.optional,
               help: "Labels: a .npy of integers or a text file with one integer per line; accuracy is printed.", effect: .result, sample: "l.txt"),
        .flag("skip-bad", \.skipBad, help: "Skip images that cannot be decoded (and say how many) instead of stopping.", effect: .result),
        .value("classes", "file", \.classes, ValueParser<String>.text.optional, help: "Class names, one per line, in class-index order.",
               effect: .presentation, sample: "names.txt"),
        .value("format", "format", \.format, .choice, help: "text, or json (printed at the end).", effect: .presentation, sample: "json"),
        .flag("quiet", short: "q", \.quiet, help: "No progress on standard error.", effect: .presentation),
    ]
}
