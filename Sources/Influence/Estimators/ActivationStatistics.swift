import Execution
import NetworkIR

/// Per-channel statistics of what each producer's consumers read in the unperturbed model (the
/// end of its per-channel tail: after BatchNormalization and the activation), summed over every
/// input and position. They feed the activation-based estimators: APoZ (Hu et al. 2016, the
/// fraction of zeros after the activation) and the mean activation magnitude (NNI's
/// ActivationMeanRank).
///
/// Sums are float64 and accumulated batch by batch in input order, so a resumed or sharded run
/// gets the same bits as a single one.
public struct ActivationStatistics: Sendable, Equatable {
    /// Per producer node: exact zeros per channel.
    public private(set) var zeros: [Int: [Double]] = [:]
    /// Per producer node: Σ|x| per channel.
    public private(set) var absoluteSums: [Int: [Double]] = [:]
    /// Per producer node: values seen per channel (inputs × positions).
    public private(set) var counts: [Int: Double] = [:]

    public init() {}

    /// Adds one batch: `values` must hold each tail's end (channel axis 1: NCHW or (N, features)).
    public mutating func add(values: [ValueID: Tensor], tails: [ChannelTailEnd]) {
        for t in tails {
            guard let x = values[t.value], x.shape.count > t.axis, t.axis >= 1, x.shape[t.axis] == t.channels else { continue }
            // Channels on axis `axis`: `n` blocks before it (batch and any moved axes), `positions` after it.
            let (n, c) = (x.shape[..<t.axis].reduce(1, *), x.shape[t.axis])
            let positions = x.shape[(t.axis + 1)...].reduce(1, *)
            var z = zeros[t.producer] ?? [Double](repeating: 0, count: c)
            var a = absoluteSums[t.producer] ?? [Double](repeating: 0, count: c)
            x.storage.withUnsafeBufferPointer { p in
                for i in 0..<n {
                    for ch in 0..<c {
                        let base = (i * c + ch) * positions
                        var zeroCount = 0, sum = 0.0
                        for k in 0..<positions {
                            let v = p[base + k]
                            if v == 0 { zeroCount += 1 }
                            sum += Double(abs(v))
                        }
                        z[ch] += Double(zeroCount)
                        a[ch] += sum
                    }
                }
            }
            zeros[t.producer] = z
            absoluteSums[t.producer] = a
            counts[t.producer, default: 0] += Double(n * positions)  // every value of each channel
        }
    }

    /// Average percentage of zeros per channel (0…1), or nil when the producer was not seen.
    public func apoz(producer: Int) -> [Double]? {
        guard let z = zeros[producer], let n = counts[producer], n > 0 else { return nil }
        return z.map { $0 / n }
    }

    /// Mean |activation| per channel, or nil when the producer was not seen.
    public func meanActivation(producer: Int) -> [Double]? {
        guard let a = absoluteSums[producer], let n = counts[producer], n > 0 else { return nil }
        return a.map { $0 / n }
    }
}

/// Where a producer's channels are read: the tensor the activation estimators look at.
public struct ChannelTailEnd: Sendable, Equatable {
    public var producer: Int
    public var value: ValueID
    public var channels: Int
    /// The axis of `value` that holds the channels (3 when an NHWC export moved them).
    public var axis: Int = 1
}
