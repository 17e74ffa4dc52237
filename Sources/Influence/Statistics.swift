import NetworkIR
import Support

/// Summary statistics of an item's influence over inputs.
public struct InfluenceStatistics: Sendable, Equatable {
    public var mean: Double
    /// Sample standard deviation (n − 1 in the denominator; 0 for one input).
    public var std: Double
    /// 95% percentile-bootstrap interval of the mean.
    public var ciLow: Double
    public var ciHigh: Double
    public var n: Int

    /// Statistics of `values` with `resamples` bootstrap resamples drawn from `seed`.
    public init(values: [Double], resamples: Int = 1000, seed: UInt64) {
        n = values.count
        guard n > 0 else { mean = 0; std = 0; ciLow = 0; ciHigh = 0; return }
        let m = values.reduce(0, +) / Double(n)
        mean = m
        std = n > 1 ? (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n - 1)).squareRoot() : 0
        if n == 1 || resamples <= 0 { ciLow = m; ciHigh = m; return }
        var rng = SplitMix64(seed: seed)
        var means = [Double]()
        means.reserveCapacity(resamples)
        for _ in 0..<resamples {
            var s = 0.0
            for _ in 0..<n { s += values[Int(rng.next() % UInt64(n))] }
            means.append(s / Double(n))
        }
        means.sort()
        ciLow = means[Int((Double(resamples) * 0.025).rounded(.down))]
        ciHigh = means[min(resamples - 1, Int((Double(resamples) * 0.975).rounded(.down)))]
    }
}

/// FNV-1a of a string: the per-item seed offset, independent of the item's position, shard or
/// resume order.
public func stableHash(_ s: String) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
    return h
}
