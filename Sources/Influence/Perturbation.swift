import NetworkIR

/// How an item is perturbed (`--perturb`).
public enum Perturbation: Sendable, Equatable, CustomStringConvertible {
    /// Ablation: the item's channels become 0.
    case zero
    /// The item's channels are multiplied by the factor.
    case scale(Float)
    /// Layer sensitivity sweep: at each sparsity S, the int(S·C) filters with the smallest L1 norm
    /// are removed (their channels zeroed at the ablation point), or with `--prune-mode
    /// unstructured` the int(S·n) smallest-magnitude weights of the layer are zeroed.
    case prune([Float])
    /// Gaussian noise of standard deviation S × the item's weight standard deviation (seeded).
    case noise(Float)
    /// The item's weights rounded to B-bit symmetric integers (`QuantizedWeights`: one scale per
    /// output channel, or per tensor with `--quantize-granularity tensor`), at each of the bit
    /// widths, fewest last: a layer × bits sensitivity table, as `prune:` sweeps sparsities.
    case quantize([Int])

    /// Noise and quantization act on weights, not on activations.
    public var actsOnWeights: Bool {
        switch self {
        case .noise, .quantize: return true
        case .zero, .scale, .prune: return false
        }
    }

    public var description: String {
        switch self {
        case .zero: "zero"
        case .scale(let a): "scale:\(a)"
        case .prune(let levels): "prune:" + levels.map { "\($0)" }.joined(separator: ",")
        case .noise(let s): "noise:\(s)"
        case .quantize(let bits): "quantize:" + bits.map(String.init).joined(separator: ",")
        }
    }

    /// Parses `zero`, `scale:A`, `prune:S1,S2,…`, `noise:S`, `quantize:B1,B2,…`.
    public static func parse(_ text: String) throws(InfluenceError) -> Perturbation {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        switch parts.first {
        case "zero" where parts.count == 1: return .zero
        case "scale" where parts.count == 2:
            guard let a = Float(parts[1]), a.isFinite else { throw InfluenceError("--perturb scale:A: expected a number, got '\(parts[1])'") }
            return .scale(a)
        case "prune" where parts.count == 2:
            var levels: [Float] = []
            for p in parts[1].split(separator: ",") {
                guard let s = Float(p), s >= 0, s <= 1 else { throw InfluenceError("--perturb prune: expected sparsities in [0, 1], got '\(p)'") }
                levels.append(s)
            }
            guard !levels.isEmpty else { throw InfluenceError("--perturb prune: expected at least one sparsity") }
            return .prune(levels)
        case "noise" where parts.count == 2:
            guard let s = Float(parts[1]), s.isFinite, s >= 0 else { throw InfluenceError("--perturb noise:S: expected a non-negative number, got '\(parts[1])'") }
            return .noise(s)
        case "quantize" where parts.count == 2:
            var bits: [Int] = []
            for p in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
                guard let b = Int(p), (2...16).contains(b) else { throw InfluenceError("--perturb quantize:B1,B2,…: expected bit widths in 2...16, got '\(p)'") }
                guard !bits.contains(b) else { throw InfluenceError("--perturb quantize: \(b) bits given twice") }
                bits.append(b)
            }
            // Fewest bits last: the item's influence is its largest perturbation, as in a prune sweep.
            return .quantize(bits.sorted(by: >))
        default:
            throw InfluenceError("--perturb: expected zero, scale:A, prune:S1,S2,…, noise:S or quantize:B1,B2,…, got '\(text)'")
        }
    }

    /// Rewrites channels `channels` of an activation in place, channels on `axis` (1: (N, C, ...);
    /// 3 on an NHWC tensor between Transposes).
    public static func apply(factor: Float, channels: [Int], axis: Int = 1, to tensor: inout Tensor) {
        let a = min(axis, max(tensor.shape.count - 1, 0))
        let c = tensor.shape.count > a ? tensor.shape[a] : 1
        let inner = tensor.shape.count > a + 1 ? tensor.shape[(a + 1)...].reduce(1, *) : 1
        let outer = tensor.shape[..<a].reduce(1, *)
        tensor.storage.withUnsafeMutableBufferPointer { p in
            for b in 0..<outer {
                for ch in channels where ch < c {
                    let base = (b * c + ch) * inner
                    for i in 0..<inner { p[base + i] *= factor }
                }
            }
        }
    }
}

/// Where a channel is ablated (`--ablate-at`).
public enum AblationPoint: String, Sendable, CaseIterable {
    /// At the end of the producer's per-channel tail: what physically removing the channel does.
    case structural
    /// On the producer's raw output, before BatchNormalization.
    case output
}

/// A bad option or an impossible request, reported as exit code 2.
public struct InfluenceError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
