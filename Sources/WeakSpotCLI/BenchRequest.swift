import Foundation
import Support

/// Everything `weakspot bench` is asked to time, one field per option, declared once. CLI-only:
/// bench times this machine, it computes nothing a library caller would keep.
struct BenchRequest: OptionRequest {
    enum Format: String, CaseIterable, Sendable { case table, json }

    /// `--batch`, every value given; empty means 1 and 16.
    var batches: [Int] = []
    var threads: Int? = nil
    var repetitions = 10
    var format = Format.table
    var data: String? = nil
    var gemmSize = 1024
    var trainStep = false
    var backward = false
    var layers = false

    init() {}

    /// The batches to time at.
    var resolvedBatches: [Int] { batches.isEmpty ? [1, 16] : batches }
    var resolvedThreads: Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }

    static let declarations: [OptionDeclaration<BenchRequest>] = [
        .repeated("batch", "b", \.batches, .integer(in: 1...4096), help: "Batch size to time the model at.", effect: .result,
                  default: "1 and 16", sample: "2"),
        .value("threads", "t", \.threads, ValueParser<Int>.integer(in: 1...1024).optional,
               help: "Threads for the multi-threaded GEMM, the model and preprocessing.", effect: .result, default: "all cores", sample: "1"),
        .value("repetitions", "r", \.repetitions, .integer(in: 1...100_000), help: "Timed runs per measurement.", effect: .result, sample: "1"),
        .value("format", "format", \.format, .choice, help: "table or json.", effect: .presentation, sample: "json"),
        .value("data", "dir", \.data, ValueParser<String>.text.optional, help: "Time reading, decoding and preprocessing this folder's images.",
               effect: .result, sample: "images"),
        .value("gemm-size", "n", \.gemmSize, .integer(in: 0...8192), help: "GEMM size; 0 skips the GEMM measurement.", effect: .result, sample: "0"),
        .flag("train-step", \.trainStep,
              help: "Also time a whole fine-tuning step: forward and backward with BatchNormalization in training mode, cross-entropy, Adam update of every parameter, running statistics (weakspot finetune's step).",
              effect: .result),
        .flag("backward", \.backward,
              help: "Also time a training step's gradient computation: forward + backward with cross-entropy (BatchNormalization frozen).", effect: .result),
        .flag("layers", \.layers,
              help: "Also time every plan step (a node or a fused chain) at each batch, alternating with whole runs: per-step medians, their sum and the whole run's median.",
              effect: .result),
    ]
}

/// Everything `weakspot demo` is asked to do (CLI-only: it drives the other commands).
struct DemoRequest: OptionRequest {
    var out = "weakspot-demo"
    var threads: Int? = nil
    var quiet = false

    init() {}

    static let declarations: [OptionDeclaration<DemoRequest>] = [
        .value("out", "dir", \.out, .text, help: "Folder for the demo's files (created when missing).", effect: .presentation,
               default: "./weakspot-demo", sample: "demo"),
        .value("threads", "t", \.threads, ValueParser<Int>.integer(in: 1...1024).optional, help: "Threads for decoding and the model.",
               effect: .presentation, default: "all cores", sample: "1"),
        .flag("quiet", short: "q", \.quiet, help: "No progress on standard error.", effect: .presentation),
    ]
}
