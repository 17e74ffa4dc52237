import Foundation
import Support

/// How many inputs would make the ranking stable? From the bootstrap: each item carries its mean
/// on a few joint resamples of the inputs (`RankStability`), and resample r's deviation from the
/// full mean, dᵣ, is one draw of how the item means move when the inputs change — with the
/// correlation between items intact (an input that excites every channel moves them all, which
/// leaves the ranking alone). A mean over N′/2 inputs deviates by about dᵣ·√(2N/N′), so two
/// halves of N′ inputs are simulated as full + c·dᵣ and full + c·dₛ for pairs r ≠ s, and the
/// mean Kendall τ between them predicts the halves-τ a run of N′ inputs would report. The
/// measured means stand in for the true ones; the prediction at the measured N is reported
/// beside the measured τ so a reader sees how far off the model is.
public enum StabilityEstimate {
    /// Targets the report gives an input count for.
    public static let targets = [0.8, 0.9, 0.95]
    /// No count above this many times the measured N is predicted (null instead).
    static let maximumFactor = 1 << 12
    /// Items a prediction ranks at most. Kendall's τ is O(items²) and a search takes ~20
    /// predictions of 8 τ each, so a report of tens of thousands of channels would spend minutes
    /// here; an evenly strided subset of this size is used instead (τ's own sampling error over
    /// 1,000 items is about 0.02).
    static let maximumItems = 1_000

    /// The predicted halves τ with `inputs` inputs; nil without at least 3 items and 2 resamples.
    /// `resamples[i]` are item i's resampled means, `means[i]` its full mean.
    public static func predictedHalvesKendall(means: [Double], resamples: [[Double]], measured n: Int, inputs: Int) -> Double? {
        let count = resamples.map(\.count).min() ?? 0
        guard means.count >= 3, resamples.count == means.count, count >= 2, n >= 1, inputs >= 2 else { return nil }
        let c = (2 * Double(n) / Double(inputs)).squareRoot()
        var total = 0.0, pairs = 0
        for r in 0..<count {
            let s = (r + 1) % count
            let a = means.indices.map { means[$0] + c * (resamples[$0][r] - means[$0]) }
            let b = means.indices.map { means[$0] + c * (resamples[$0][s] - means[$0]) }
            if let t = Agreement.kendall(a, b) { total += t; pairs += 1 }
        }
        return pairs > 0 ? total / Double(pairs) : nil
    }

    /// The report's `stability.estimate`: the prediction at the measured N, and N′ per target.
    /// Predictions are memoised by N′, so the targets' searches share their doubling steps.
    static func object(means: [Double], resamples: [[Double]], measured n: Int) -> JSONValue {
        let stride = max(1, (means.count + maximumItems - 1) / maximumItems)
        let kept = Array(Swift.stride(from: 0, to: means.count, by: stride))
        let (m, r) = (kept.map { means[$0] }, kept.map { resamples[$0] })
        var memo: [Int: Double?] = [:]
        func predicted(_ inputs: Int) -> Double? {
            if let p = memo[inputs] { return p }
            let p = predictedHalvesKendall(means: m, resamples: r, measured: n, inputs: inputs)
            memo[inputs] = p
            return p
        }
        let now = predicted(n)
        var counts: [String: JSONValue] = [:]
        for t in targets { counts[String(t)] = inputs(for: t, measured: n, predicted: predicted).map { .int($0) } ?? .null }
        return .object(["measuredInputs": .int(n), "predictedHalvesKendall": now.map { .double($0) } ?? .null, "inputsForHalvesKendall": .object(counts)])
    }

    /// The smallest input count (at least 2) whose predicted halves τ reaches `target`, or nil
    /// beyond `maximumFactor`·N: doubling, then bisection to within 1/32.
    static func inputs(for target: Double, measured n: Int, predicted: (Int) -> Double?) -> Int? {
        var high = 2
        while (predicted(high) ?? -1) < target {
            guard high < n * maximumFactor else { return nil }
            high *= 2
        }
        var low = high / 2
        guard low >= 2 else { return high }
        while high - low > max(1, high / 32) {
            let mid = (low + high) / 2
            if (predicted(mid) ?? -1) >= target { high = mid } else { low = mid }
        }
        return high
    }
}
