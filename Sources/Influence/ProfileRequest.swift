import Foundation
import Support

/// Everything `weakspot profile` is asked to do, one field per option. `declarations` is the only
/// place an option is described: help, parsing, validation, the checkpoint fingerprint and the
/// report's `settings` are generated from it (docs/cli.md, "Options are declared once").
public struct ProfileRequest: OptionRequest {
    /// `--data`: the inputs (a path or `synthetic:N[:SEED]`); required.
    public var data: String? = nil
    public var output = "report.json"
    /// What is measured and how; `items` and `weakThreshold` are resolved into it by `options`.
    public var measure = ProfileOptions()
    /// `--items`; nil means channels, or layers for a `prune:` sweep.
    public var items: [ItemKind]? = nil
    public var weakThreshold: WeakThreshold = .absolute(1e-3)
    /// `--threads`; nil means every core. Results are bit-identical for any count.
    public var threads: Int? = nil
    /// `--max-memory` in MiB: bound on one batch's cached activations (a smaller batch is used).
    public var maxMemory = 4096
    /// `--adaptive-slice`: inputs in the adaptive first slice; nil means a quarter, at least 4.
    public var adaptiveSlice: Int? = nil
    public var hardExamples: Int? = nil
    /// `--calibrate DATA`: the inputs activation ranges are calibrated on, for
    /// `--quantize-target activations|both`.
    public var calibrate: String? = nil
    /// `--until-stable T`: stop reading batches once the halves Kendall τ reaches T.
    public var untilStable: Double? = nil
    public var checkpoint: String? = nil
    public var resume = false
    public var csv: String? = nil
    public var html: String? = nil
    public var labels: String? = nil
    public var skipBad = false
    public var quiet = false

    public init() {}

    /// The request that measures as `options` says (library callers and tests that build options
    /// directly).
    public init(measuring options: ProfileOptions) {
        measure = options
        items = options.kinds
        weakThreshold = options.weakQuantile.map { .quantile($0) } ?? .absolute(options.weakThreshold)
        threads = options.threads
    }

    /// The measuring options with `--items`, `--weak-threshold` and `--threads` resolved.
    public var options: ProfileOptions {
        var o = measure
        if let items { o.kinds = items } else if case .prune = o.perturbation { o.kinds = [.layer] } else { o.kinds = [.channel] }
        switch weakThreshold {
        case .absolute(let v): o.weakThreshold = v; o.weakQuantile = nil
        case .quantile(let q): o.weakQuantile = q
        }
        o.threads = threads ?? ProcessInfo.processInfo.activeProcessorCount
        return o
    }

    /// Inputs measured before the first adaptive decision: `--adaptive-slice`, by default one (a
    /// decision can be taken after any number of inputs).
    public var adaptiveFirstSlice: Int { adaptiveSlice ?? 1 }

    /// The adaptive batches after a first slice of `first` inputs: each as large as all the inputs
    /// read so far, capped at `batch` (1, 1, 2, 4, 8, 16, 16… from a first slice of one), so an item
    /// is looked at after 1, 2, 4, 8… inputs while the passes stay wide enough for the kernels.
    /// The last size repeats until the data runs out.
    public static func adaptiveSchedule(after first: Int, batch: Int) -> [Int] {
        var sizes: [Int] = [], read = max(1, first)
        while true {
            let next = min(batch, read)
            sizes.append(next)
            if next == batch { return sizes }
            read += next
        }
    }

    public func validate() throws(OptionError) {
        guard data != nil else { throw OptionError("missing option '--data <data>'") }
        if measure.adaptive, case .quantile = weakThreshold {
            throw OptionError("--adaptive needs an absolute --weak-threshold: a quantile is known only after every item is measured")
        }
        let roundsActivations: Bool
        if case .quantize = measure.perturbation { roundsActivations = measure.quantizeTarget.roundsActivations } else { roundsActivations = false }
        if roundsActivations && calibrate == nil {
            throw OptionError("--quantize-target \(measure.quantizeTarget.rawValue) rounds activations to calibrated ranges: give --calibrate DATA (calibration inputs, kept apart from --data)")
        }
        if calibrate != nil && !roundsActivations {
            throw OptionError("--calibrate gives activation ranges: it needs --perturb quantize:… with --quantize-target activations or both")
        }
        if resume && checkpoint == nil { throw OptionError("--resume needs --checkpoint FILE") }
        if measure.measurement == .estimatesOnly { try validateEstimatesOnly() }
        if untilStable != nil {
            if measure.adaptive { throw OptionError("--until-stable decides when to stop reading data; --adaptive stops items early instead: give one") }
            if measure.shard != nil { throw OptionError("--until-stable needs every item in one run: a shard's stability is not the model's (drop --shard)") }
            if hardExamples != nil { throw OptionError("--until-stable reads batches as they come; --hard-examples chooses among all inputs first: give one") }
        }
    }

    /// `--measure none` computes estimator scores and nothing else: refuse what would have nothing
    /// to do (no estimator), or an option that only makes sense for a measurement.
    func validateEstimatesOnly() throws(OptionError) {
        guard !measure.estimators.isEmpty else {
            throw OptionError("--measure none computes only estimator scores: give --estimators (l1, l2, bn, apoz, meanact, taylor, random)")
        }
        let kinds = options.kinds.filter { $0 == .layer || $0 == .tensor }
        if !kinds.isEmpty {
            throw OptionError("--measure none: estimators score channels and groups only, not \(kinds.map { $0.rawValue + "s" }.joined(separator: ", ")) (give --items channels,groups)")
        }
        for (given, option) in [(measure.adaptive, "--adaptive"), (untilStable != nil, "--until-stable"), (checkpoint != nil, "--checkpoint"),
                                (measure.shard != nil, "--shard"), (html != nil, "--html")] where given {
            throw OptionError("--measure none measures no influence, which \(option) needs: drop \(option) or --measure none")
        }
    }

    public static let declarations: [OptionDeclaration<ProfileRequest>] = [
        .value("data", "data", \.data, ValueParser<String>.text.optional,
               help: "The inputs: a .npy file, an image folder, class folders or synthetic:N[:SEED].", effect: .result, sample: "synthetic:3"),
        .value("output", short: "o", "report.json", \.output, .text, help: "Where to write the report.", effect: .presentation, sample: "r.json"),
        .value("items", "kinds", \.items, ItemKind.listParser.optional, help: "channels, groups, layers, tensors (comma-separated).",
               effect: .result, default: "channels", sample: "groups",
               record: { [("items", .strings($0.options.kinds.map(\.rawValue)))] }),
        .value("layers", "glob", \.measure.layerPattern, ValueParser<String>.text.optional,
               help: "Only producers whose node name matches one of these globs (* and ?, comma-separated).", effect: .result, sample: "/conv*"),
        .value("perturb", "kind", \.measure.perturbation, Perturbation.parser,
               help: "zero, scale:A, noise:S (S × the weights' std, seeded), quantize:B1,B2,… (weight bits, a sweep) or prune:S1,S2,… (layer sweeps).",
               effect: .result, sample: "scale:0.5"),
        .value("quantize-granularity", "g", \.measure.quantizeGranularity, .choice,
               help: "What a quantize: sweep shares a weight scale over: channel (each output channel) or tensor.", effect: .result, sample: "tensor"),
        .value("quantize-target", "what", \.measure.quantizeTarget, .choice,
               help: "What a quantize: sweep rounds: weights, activations (each layer's output, calibrated on --calibrate) or both.",
               effect: .result, sample: "both"),
        .value("calibrate", "data", \.calibrate, ValueParser<String>.text.optional,
               help: "Calibration inputs for --quantize-target activations|both (onnxruntime's min-max ranges).", effect: .result, sample: "synthetic:2"),
        .value("prune-mode", "mode", \.measure.pruneMode, .choice,
               help: "What a prune sweep removes: filters (smallest L1) or unstructured (smallest weights).", effect: .result, sample: "unstructured"),
        .value("ablate-at", "point", \.measure.ablateAt, .choice,
               help: "structural (end of the per-channel tail) or output (raw output, before BatchNormalization).", effect: .result, sample: "output"),
        .value("metric", "name", \.measure.metric, .choice,
               help: "The metric that becomes the influence: kl, mse, top1, acc, loss.", effect: .result, sample: "mse"),
        .value("weak-threshold", "x", \.weakThreshold, WeakThreshold.parser,
               help: "Weak when the 95% interval's upper end is below this (metric units), or q:F for the F-quantile of the measured influence (q:0.1 = the lowest decile).",
               effect: .result, sample: "q:0.1", record: { request in
                   switch request.weakThreshold {
                   // A quantile threshold is known only once every item is measured: the report fills it in.
                   case .absolute(let v): return [("weakThreshold", .double(v)), ("weakRule", .string("absolute"))]
                   case .quantile(let q): return [("weakThreshold", .null), ("weakRule", .string("q:\(q)"))]
                   }
               }),
        .value("seed", "n", \.measure.seed, .seed, help: "Seed of the bootstrap intervals.", effect: .result, sample: "7"),
        .value("batch", "b", \.measure.batchSize, .integer(in: 1...4096),
               help: "Inputs per pass; activations of one batch are cached at a time.", effect: .result, sample: "3"),
        .value("max-memory", "MiB", \.maxMemory, .integer(in: 16...16_777_216),
               help: "Bound on the cached activations of one batch: a smaller batch is used when they would not fit.", effect: .result, sample: "64"),
        .value("threads", "t", \.threads, ValueParser<Int>.integer(in: 1...1024).optional, help: "Threads.", effect: .presentation,
               default: "all cores", sample: "1"),
        .value("bootstrap", "n", \.measure.bootstrapResamples, .integer(in: 0...1_000_000), help: "Bootstrap resamples per item.",
               effect: .result, settingsKey: "bootstrapResamples", sample: "10"),
        .value("estimators", "list", \.measure.estimators, .list(of: .choice),
               help: "Cheap criteria to compute alongside and compare: l1, l2, bn, apoz, meanact, taylor, random (comma-separated). taylor uses --labels, else the model's own top-1 class.",
               effect: .result, sample: "l1"),
        .value("measure", "what", \.measure.measurement, .choice,
               help: "influence (perturb every item over the inputs) or none (only the --estimators scores: no influence, rank or weak flag).",
               effect: .result, sample: "none"),
        .value("normalize", "how", \.measure.normalizer, .choice,
               help: "Per-layer normalisation of estimator scores: none, max, mean, l2, lamp.", effect: .result, sample: "max"),
        .value("group-reduction", "how", \.measure.groupReduction, .choice,
               help: "How a group's estimator score combines its parts: sum, mean, max.", effect: .result, sample: "max"),
        .value("latent-fraction", "q", \.measure.latentFraction,
               .number(above: 0, inclusive: false, upTo: 0.5, expected: "a number in (0, 0.5]"),
               help: "q of the latent rule: estimator's weakest q but measured strongest q, or the reverse.", effect: .result, sample: "0.1"),
        .flag("adaptive", \.measure.adaptive,
              help: "Stop measuring an item once its weak decision is settled: not weak for certain, or weak at --adaptive-level (a confidence sequence).",
              effect: .result),
        .value("adaptive-slice", "n", \.adaptiveSlice, ValueParser<Int>.integer(in: 1...1_000_000).optional,
               help: "Inputs measured before the first adaptive decision.", effect: .result, default: "1", sample: "2"),
        .value("adaptive-level", "alpha", \.measure.adaptiveLevel,
               .number(above: 0, inclusive: false, upTo: 0.5, expected: "a level in (0, 0.5]"),
               help: "α: the chance that an item --adaptive decides weak early is not weak on all inputs (under --adaptive-range).",
               effect: .result, sample: "0.05", record: { request in
                   [("adaptiveLevel", .double(request.measure.adaptiveLevel)), ("adaptiveSequence", .string(AdaptiveRule.sequence))]
               }),
        .value("adaptive-range", "x", \.measure.adaptiveRange,
               ValueParser<Double>.number(above: 0, inclusive: false, expected: "a positive number").optional,
               help: "The largest per-input kl or mse --adaptive assumes (metric units): items are decided weak early only under it.",
               effect: .result, default: "10 × the weak threshold", sample: "0.5"),
        .value("hard-examples", "k", \.hardExamples, ValueParser<Int>.integer(in: 1...1_000_000).optional,
               help: "Measure on the K inputs with the smallest top-1 margin.", effect: .result, sample: "2"),
        .value("until-stable", "t", \.untilStable,
               ValueParser<Double>.number(above: 0, inclusive: false, upTo: 1, inclusive: true, expected: "a Kendall τ in (0, 1]").optional,
               help: "Keep reading batches until the ranking's halves Kendall τ reaches T, or the data runs out.", effect: .result, sample: "0.5"),
        .value("shard", "i/n", \.measure.shard, Shard.parser.optional, help: "Measure the I-th of N disjoint slices of the items.",
               effect: .result, sample: "1/2"),
        .value("checkpoint", "file", \.checkpoint, ValueParser<String>.text.optional,
               help: "Save finished items here as the run goes (atomically).", effect: .presentation, sample: "run.ckpt"),
        .flag("resume", \.resume, help: "Continue from --checkpoint.", effect: .presentation),
        .value("csv", "file", \.csv, ValueParser<String>.text.optional, help: "Also write one row per item as CSV.",
               effect: .presentation, sample: "r.csv"),
        .value("html", "file", \.html, ValueParser<String>.text.optional,
               help: "Also write a self-contained HTML page with charts and the weak-item table.", effect: .presentation, sample: "r.html"),
        .value("labels", "file", \.labels, ValueParser<String>.text.optional,
               help: "Labels: .npy of integers or a text file; enables acc and loss.", effect: .result, sample: "labels.npy"),
        .flag("skip-bad", \.skipBad, help: "Skip images that cannot be decoded instead of stopping.", effect: .result),
        .flag("quiet", short: "q", \.quiet, help: "No progress on standard error.", effect: .presentation),
        .value("output-kind", "kind", \.measure.outputKind, OutputKind.optionParser,
               help: "What the model's output holds: logits, probs (probabilities, the model ends in Softmax), log-probs, or auto (read from the graph).",
               effect: .result, default: "auto", sample: "logits"),
    ]
}

/// `--weak-threshold`: an absolute bound in the metric's units, or `q:F`, the F-quantile of the
/// measured influence (resolved when the report is assembled).
public enum WeakThreshold: Sendable, Equatable {
    case absolute(Double)
    case quantile(Double)

    static let parser = ValueParser<WeakThreshold>(parse: { (t: String) throws(OptionError) -> WeakThreshold in
        if t.hasPrefix("q:") {
            guard let q = Double(t.dropFirst(2)), q > 0, q < 1 else { throw OptionError("expected q:F with 0 < F < 1, got '\(t)'") }
            return .quantile(q)
        }
        guard let v = Double(t), v.isFinite, v >= 0 else { throw OptionError("expected a non-negative number or q:F, got '\(t)'") }
        return .absolute(v)
    }, setting: { w in
        switch w {
        case .absolute(let v): return .double(v)
        case .quantile(let q): return .string("q:\(q)")
        }
    }, text: { w in
        switch w {
        case .absolute(let v): return "\(v)"
        case .quantile(let q): return "q:\(q)"
        }
    })
}

extension ItemKind {
    /// `channels,groups`: plural or singular kind names.
    static let listParser = ValueParser<[ItemKind]>(parse: { (text: String) throws(OptionError) -> [ItemKind] in
        var kinds: [ItemKind] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let singular = part.hasSuffix("s") ? String(part.dropLast()) : String(part)
            guard let kind = ItemKind(rawValue: singular) else {
                throw OptionError("expected channels, groups, layers or tensors, got '\(part)'")
            }
            kinds.append(kind)
        }
        return kinds
    }, setting: { .strings($0.map(\.rawValue)) }, text: { $0.map { $0.rawValue + "s" }.joined(separator: ",") })
}

extension Perturbation {
    static let parser = ValueParser<Perturbation>(parse: { (text: String) throws(OptionError) -> Perturbation in
        do throws(InfluenceError) { return try Perturbation.parse(text) } catch { throw OptionError(error.description) }
    }, setting: { .string($0.description) }, text: { $0.description })
}

extension Shard {
    static let parser = ValueParser<Shard>(parse: { (text: String) throws(OptionError) -> Shard in
        do throws(InfluenceError) { return try Shard.parse(text) } catch { throw OptionError(error.description) }
    }, setting: { .string($0.description) }, text: { $0.description })
}

extension OutputKind {
    /// `--output-kind`: nil is `auto` (read from the graph, `OutputKind.detect`).
    public static let optionParser = ValueParser<OutputKind?>(parse: { (text: String) throws(OptionError) -> OutputKind? in
        do throws(InfluenceError) { return try OutputKind.parse(text) } catch { throw OptionError(error.description) }
    }, setting: { kind in kind.map { .string($0.rawValue) } ?? .string("auto") }, text: { $0?.rawValue ?? "auto" })
}
