import Foundation
import Support

/// How `--adaptive` decided an item.
public enum AdaptiveDecision: String, Sendable, Equatable {
    /// Certain, under no assumption: even if every input not yet measured had the metric's
    /// smallest possible value, the exact rule's interval would reach the threshold.
    case notWeak
    /// At level α, under the range assumption: the confidence sequence bounds the exact rule's
    /// interval below the threshold.
    case weak
    /// Still open, so measured on every input: the exact rule decides, on the same numbers.
    case allInputs
}

/// The adaptive stopping rule (docs/influence.md, "Adaptive decisions").
///
/// The question is the exact rule's answer on the N inputs of the run: is the upper end of the
/// item's percentile-bootstrap interval over all N per-input values (`InfluenceStatistics`, the
/// item's seed, values in input order) below the threshold? That interval is a nondecreasing
/// function of every value (each resample mean is, and so is each order statistic of them), so
/// after k of the N values:
/// - the interval computed with every unmeasured value at the metric's floor is a lower bound of
///   the exact one, with certainty — when it already reaches the threshold the item is not weak;
/// - an upper bound needs the unmeasured values bounded from above. The values are assumed to lie
///   in [floor, ceiling] (a metric's own range, or `--adaptive-range` for kl and mse, which are
///   unbounded) and the inputs to come in random order; then a betting confidence sequence for
///   the mean of a finite population sampled without replacement (Waudby-Smith & Ramdas, "Confidence
///   sequences for sampling without replacement", NeurIPS 2020: the capital process with
///   predictable plug-in bets) bounds the unmeasured values' sum at every k simultaneously with
///   probability ≥ 1 − α, and the largest interval end any placement of that sum allows (a convex
///   bound: the mean of the top 2.5% of resample means, maximised over which unmeasured input
///   holds the whole sum) bounds the exact interval.
public struct AdaptiveRule: Sendable, Equatable {
    /// N: the inputs of the run (the population the exact rule averages over).
    public var population: Int
    public var threshold: Double
    /// α: the probability that any weak decision of one item is wrong, under the assumptions.
    public var level: Double
    /// Smallest possible per-input value (0 for kl, mse and top1, −1 for acc, −∞ for loss).
    public var floor: Double
    /// Largest per-input value: the metric's own (1 for top1 and acc) or the assumed range.
    public var ceiling: Double
    public var resamples: Int

    /// The sequence's name in the report's settings.
    public static let sequence = "betting-without-replacement"
    /// Relative slack on the upper bound, for float rounding in the bootstrap sums.
    static let slack = 1e-9

    public init(population: Int, threshold: Double, level: Double, floor: Double, ceiling: Double, resamples: Int) {
        self.population = population
        self.threshold = threshold
        self.level = level
        self.floor = floor
        self.ceiling = ceiling
        self.resamples = resamples
    }

    /// The rule of a run: N inputs, the options' threshold, level, metric range and resamples.
    public init(population: Int, options: ProfileOptions) {
        let range = options.metric.valueRange
        self.init(population: population, threshold: options.weakThreshold, level: options.adaptiveLevel,
                  floor: range.lowerBound, ceiling: range.upperBound.isFinite ? range.upperBound : options.resolvedAdaptiveRange,
                  resamples: options.bootstrapResamples)
    }

    /// The decision on the first `values.count` inputs' values (input order), with the item's
    /// bootstrap seed. `allInputs` means: not decided, measure on.
    public func decide(_ values: [Double], seed: UInt64) -> AdaptiveDecision {
        let n = population, k = values.count
        guard k < n, k > 0, n >= 2 else { return .allInputs }
        if floor.isFinite {
            let lowest = InfluenceStatistics(values: values + Array(repeating: floor, count: n - k), resamples: resamples, seed: seed)
            if !ReportWarnings.isWeak(ciHigh: Double(Float(lowest.ciHigh)), n: n, threshold: threshold) { return .notWeak }
        }
        guard floor.isFinite, ceiling.isFinite, ceiling > floor, values.allSatisfy({ $0 >= floor && $0 <= ceiling }) else { return .allInputs }
        // Every unmeasured input at the ceiling: certain under the range assumption alone.
        let highest = InfluenceStatistics(values: values + Array(repeating: ceiling, count: n - k), resamples: resamples, seed: seed)
        if ReportWarnings.isWeak(ciHigh: Double(Float(highest.ciHigh)), n: n, threshold: threshold) { return .weak }
        let bound = upperIntervalBound(values, seed: seed)
        if bound * (1 + Self.slack) < threshold && ReportWarnings.isWeak(ciHigh: Double(Float(bound)), n: n, threshold: threshold) { return .weak }
        return .allInputs
    }

    /// An upper bound, valid with probability ≥ 1 − α at every k at once, of the exact interval's
    /// upper end: the confidence sequence's bound on the unmeasured inputs' sum, placed where it
    /// raises the interval most.
    func upperIntervalBound(_ values: [Double], seed: UInt64) -> Double {
        let n = population, k = values.count
        let width = ceiling - floor
        let scaled = values.map { ($0 - floor) / width }
        let upper = BettingSequence.upperMean(scaled, population: n, level: level)
        // The unmeasured inputs' sum above the floor, in metric units.
        let spare = max(0, min(Double(n - k) * width, (Double(n) * upper - scaled.reduce(0, +)) * width))
        // The interval's end is rarely below the mean: when the bound on the mean already reaches
        // the threshold, skip the placement search (answering "not decided" is always safe).
        if floor + upper * width >= threshold { return .infinity }
        guard resamples > 0 else {
            return (values.reduce(0, +) + Double(n - k) * floor + spare) / Double(n)
        }
        // Replay the exact rule's draws: per resample, the measured part of its sum and how often
        // each unmeasured input was drawn.
        var rng = SplitMix64(seed: seed)
        var base = [Double](repeating: 0, count: resamples)
        var counts = [Int](repeating: 0, count: resamples * (n - k))
        for b in 0..<resamples {
            var s = 0.0
            for _ in 0..<n {
                let i = Int(rng.next() % UInt64(n))
                if i < k { s += values[i] } else { s += floor; counts[b * (n - k) + i - k] += 1 }
            }
            base[b] = s
        }
        // The interval's end is the order statistic at `q`; it is at most the mean of the resample
        // means from q up, a convex function of the unmeasured values, so its maximum over the
        // simplex {sum = spare} is at a vertex: the whole sum on one input.
        let q = min(resamples - 1, Int((Double(resamples) * 0.975).rounded(.down)))
        let top = resamples - q
        var worst = -Double.infinity
        var column = [Double](repeating: 0, count: resamples)
        for j in 0..<(n - k) {
            for b in 0..<resamples { column[b] = (base[b] + spare * Double(counts[b * (n - k) + j])) / Double(n) }
            column.sort()
            let tail = column[q...].reduce(0, +) / Double(top)
            worst = max(worst, tail)
        }
        return worst
    }
}

/// A one-sided betting confidence sequence for the mean of a finite population of values in
/// [0, 1], sampled without replacement in random order (Waudby-Smith & Ramdas 2020, Theorem 3
/// with predictable plug-in bets). For a candidate mean m, the mean of what is left before draw i
/// is μᵢ(m) = (N·m − Σ_{j<i} xⱼ) / (N − i + 1); the capital Πᵢ (1 − λᵢ (xᵢ − μᵢ(m))) is a
/// nonnegative martingale when the true mean is m, so by Ville's inequality it ever reaches 1/α
/// with probability ≤ α. The upper bound after k draws is the largest m whose capital has not.
public enum BettingSequence {
    /// Largest bet: a bet of 1 loses everything on a draw at the top of the range.
    static let maximumBet = 0.9

    /// The predictable bets λ₁…λ_k (each from the draws before it): √(2 log(1/α) / (σ̂² N)),
    /// at most `maximumBet`, with WSR's regularised running variance σ̂².
    static func bets(_ x: [Double], population n: Int, level: Double) -> [Double] {
        var bets: [Double] = []
        bets.reserveCapacity(x.count)
        var sum = 0.5, squares = 0.25
        for (i, value) in x.enumerated() {
            let variance = squares / Double(i + 1)
            bets.append(min(maximumBet, (2 * log(1 / level) / (variance * Double(n))).squareRoot()))
            let mean = sum / Double(i + 1)
            squares += (value - mean) * (value - mean)
            sum += value
        }
        return bets
    }

    /// Whether candidate mean `m` is still in the sequence after the draws `x` (capital below 1/α,
    /// and the draws possible under it).
    static func contains(_ m: Double, _ x: [Double], bets: [Double], population n: Int, level: Double) -> Bool {
        var capital = 1.0, drawn = 0.0
        for (i, value) in x.enumerated() {
            let rest = (Double(n) * m - drawn) / Double(n - i)
            if rest < 0 || rest > 1 { return false }
            capital *= max(0, 1 - bets[i] * (value - rest))
            if capital >= 1 / level { return false }
            drawn += value
        }
        return true
    }

    /// The upper end of the level-α sequence for the population mean after draws `x` (in [0, 1]).
    public static func upperMean(_ x: [Double], population n: Int, level: Double) -> Double {
        let k = x.count
        let drawn = x.reduce(0, +)
        let highest = (drawn + Double(n - k)) / Double(n)
        guard k > 0 else { return 1 }
        let bets = bets(x, population: n, level: level)
        if contains(highest, x, bets: bets, population: n, level: level) { return highest }
        // The capital grows with m (each factor does), so the kept set is an interval [·, m*).
        var low = drawn / Double(n), high = highest
        for _ in 0..<60 {
            let mid = (low + high) / 2
            if contains(mid, x, bets: bets, population: n, level: level) { low = mid } else { high = mid }
        }
        return high
    }
}

extension MetricName {
    /// The values one input can take: kl, mse, top1 ≥ 0; top1 ≤ 1; acc in [−1, 1]; loss unbounded.
    public var valueRange: ClosedRange<Double> {
        switch self {
        case .kl, .mse: return 0 ... .infinity
        case .top1: return 0 ... 1
        case .acc: return -1 ... 1
        case .loss: return -.infinity ... .infinity
        }
    }
}
