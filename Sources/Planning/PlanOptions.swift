import Foundation

/// What the planner aims at (`--target`): keep at most this fraction of the model's MACs or
/// parameters.
public enum PlanTarget: Sendable, Equatable, CustomStringConvertible {
    case macs(Double)
    case params(Double)
    /// The pruned model's forward latency on WeakSpot's engine, measured (batch 1).
    case latency(Double)
    /// `plan --quantize`: an average bits per quantizable weight, or a size in bytes.
    case quantization(QuantizationTarget)

    public static func parse(_ text: String) throws(PlanError) -> PlanTarget {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        let expected = "expected macs=F, params=F or latency=F with 0 < F < 1 (pruning), or bits=B or size=BYTES (--quantize)"
        guard parts.count == 2 else { throw PlanError("--target: \(expected), got '\(text)'") }
        switch parts[0] {
        case "bits":
            guard let b = Double(parts[1]), b >= 2, b <= 32 else { throw PlanError("--target bits=B: expected average bits per weight in 2...32, got '\(parts[1])'") }
            return .quantization(.bits(b))
        case "size":
            guard let n = Int(parts[1]), n > 0 else { throw PlanError("--target size=BYTES: expected a positive number of bytes, got '\(parts[1])'") }
            return .quantization(.size(n))
        case "macs", "params", "latency":
            guard let f = Double(parts[1]), f > 0, f < 1 else { throw PlanError("--target: \(expected), got '\(text)'") }
            return parts[0] == "macs" ? .macs(f) : parts[0] == "params" ? .params(f) : .latency(f)
        default:
            throw PlanError("--target: \(expected), got '\(text)'")
        }
    }

    /// The fraction kept, for pruning targets (a quantization target is not a fraction: 1).
    public var fraction: Double {
        switch self {
        case .macs(let f), .params(let f), .latency(let f): return f
        case .quantization: return 1
        }
    }

    public var description: String {
        switch self {
        case .macs(let f): return "macs=\(f)"
        case .params(let f): return "params=\(f)"
        case .latency(let f): return "latency=\(f)"
        case .quantization(let q): return q.description
        }
    }
}

/// What ranks the groups (`--criterion`): the profiler's measured influence, or a cheap estimator
/// for comparison. `uniform` removes the same fraction from every layer group by the estimator
/// (Li et al. 2017's per-layer L1 baseline) instead of one global order.
public enum PlanCriterion: String, Sendable, CaseIterable {
    case measured, l1, l2, bn, taylor
    /// `plan --quantize` only: the relative squared error of the rounded weights
    /// (`QuantizationSensitivity.weightError`), the usual cheap proxy.
    case mse
}

/// The limits the verified plan must respect (`--max-kl`, `--max-top1`, `--max-acc-drop`).
public struct PlanLimits: Sendable, Equatable {
    public var maxKL: Double? = nil
    public var maxTop1: Double? = nil
    public var maxAccDrop: Double? = nil
    public init() {}
    public var isEmpty: Bool { maxKL == nil && maxTop1 == nil && maxAccDrop == nil }
}

public struct PlanOptions: Sendable {
    public var target: PlanTarget? = nil
    public var limits = PlanLimits()
    public var criterion: PlanCriterion = .measured
    public var uniform = false
    /// Every producer keeps at least this many channels.
    public var minChannels = 1
    /// No producer loses more than this fraction of its channels.
    public var maxLayerSparsity = 0.9
    /// Layer groups keep a multiple of this many channels (hardware-friendly widths).
    public var roundTo = 1
    /// Producers whose node name matches one of these globs are never pruned. The first layer
    /// (reading the graph input) is kept unless `pruneFirst`; the classifier reaches the graph
    /// output, so its channels are never prunable anyway.
    public var keep: [String] = []
    public var pruneFirst = false
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    public init() {}
}

public struct PlanError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
