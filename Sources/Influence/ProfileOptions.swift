import Foundation
import NetworkIR

/// What `weakspot profile` measures and how.
public struct ProfileOptions: Sendable {
    public var kinds: [ItemKind] = [.channel]
    /// Glob on producer node names (`--layers`).
    public var layerPattern: String? = nil
    public var perturbation: Perturbation = .zero
    public var ablateAt: AblationPoint = .structural
    /// What a layer sweep (`prune:…`) removes: whole filters (structured) or single weights.
    public var pruneMode: PruneMode = .filters
    /// How `quantize:` shares weight scales: one per output channel (what quantizers do for
    /// convolutions) or one per tensor.
    public var quantizeGranularity: QuantizationGranularity = .channel
    /// What a `quantize:` sweep rounds: the layer's weights, the activation its consumers read
    /// (calibrated ranges, `--calibrate`), or both.
    public var quantizeTarget: QuantizeTarget = .weights
    /// The metric that becomes each item's `influence`.
    public var metric: MetricName = .kl
    /// An item is weak when the upper end of its 95% interval is below this (in the metric's units).
    public var weakThreshold: Double = 1e-3
    /// `--weak-threshold q:F`: the threshold is instead the F-quantile of the measured influence,
    /// resolved when the report is assembled (not usable with `--adaptive`, which needs it first).
    public var weakQuantile: Double? = nil
    public var seed: UInt64 = 0
    public var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    /// Inputs per pass: activations of one batch are cached at a time (the memory bound).
    public var batchSize: Int = 16
    public var bootstrapResamples: Int = 1000
    /// `--shard I/N`: this run measures the items whose index ≡ I−1 (mod N).
    public var shard: Shard? = nil
    /// Incremental runs: while a change stays in a few channels, convolutions reading it are
    /// updated from the cache with a convolution of only those channels (exact up to rounding).
    public var incremental: Bool = true
    /// `--adaptive`: after each batch, items whose decision is settled stop (`AdaptiveRule`): not
    /// weak for certain, or weak at level `adaptiveLevel`; the others go on to the next batch.
    public var adaptive: Bool = false
    /// α of the adaptive weak decisions (`--adaptive-level`): the chance, under the range
    /// assumption and a random input order, that an item decided weak early is not weak by the
    /// exact rule on all inputs.
    public var adaptiveLevel: Double = 0.01
    /// `--adaptive-range`: the assumed largest per-input value of kl or mse (metric units); nil
    /// means `defaultAdaptiveRange` × the weak threshold. top1 and acc have their own range.
    public var adaptiveRange: Double? = nil
    /// Cheap criteria computed alongside (`--estimators`), and how group scores combine their parts.
    public var estimators: [EstimatorKind] = []
    public var groupReduction: GroupReduction = .sum
    /// Per-layer normalisation of estimator scores (`--normalize`).
    public var normalizer: ScoreNormalizer = .none
    /// q of the latent rule (`--latent-fraction`).
    public var latentFraction: Double = 0.2
    /// `--output-kind`: what the model's output holds; nil reads it from the graph
    /// (`OutputKind.detect`).
    public var outputKind: OutputKind? = nil
    /// `--measure`: `influence` perturbs every item over the inputs; `none` only scores items by
    /// the estimators (one forward pass per batch, plus a backward for taylor), so a caller who
    /// wants l1 or taylor scores does not pay for the measurement.
    public var measurement: MeasureMode = .influence
    /// The default `--adaptive-range`, in weak thresholds: see docs/influence.md, "Adaptive decisions".
    public static let defaultAdaptiveRange = 10.0
    /// The range the adaptive rule assumes for kl and mse: `adaptiveRange`, else
    /// `defaultAdaptiveRange` × the weak threshold.
    public var resolvedAdaptiveRange: Double { adaptiveRange ?? Self.defaultAdaptiveRange * weakThreshold }

    public init() {}
}

/// `--quantize-target`: what a `quantize:` sweep rounds at each width.
public enum QuantizeTarget: String, Sendable, CaseIterable {
    case weights, activations, both
    var roundsActivations: Bool { self != .weights }
    var roundsWeights: Bool { self != .activations }
}

/// `--measure`: what a profile computes. `estimatesOnly` (written `none`) leaves every item's
/// influence, metrics, rank and weak flag null: the report carries estimator scores only, and the
/// commands that act on influence (`rank`, `gate`, `merge`, `plan --criterion measured`) refuse it.
public enum MeasureMode: String, Sendable, CaseIterable {
    case influence
    case estimatesOnly = "none"
}

/// `--prune-mode`: a sweep removes the smallest-L1 filters, or the smallest-magnitude weights.
public enum PruneMode: String, Sendable, CaseIterable {
    case filters, unstructured
}

/// One of N disjoint slices of the items, taken round-robin so every shard gets a similar mix of
/// cheap (late) and expensive (early) items.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    /// 1-based.
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) throws(InfluenceError) {
        guard count >= 1, index >= 1, index <= count else { throw InfluenceError("--shard I/N: expected 1 ≤ I ≤ N, got \(index)/\(count)") }
        self.index = index
        self.count = count
    }

    public static func parse(_ text: String) throws(InfluenceError) -> Shard {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else { throw InfluenceError("--shard: expected I/N, got '\(text)'") }
        return try Shard(index: i, count: n)
    }

    public func contains(_ itemIndex: Int) -> Bool { itemIndex % count == index - 1 }
    public var description: String { "\(index)/\(count)" }
}
