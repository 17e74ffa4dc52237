import Foundation

/// What every planner does once a candidate is measured: check it against the limits and, when
/// one is exceeded, back off to the longest prefix of its ordered changes (groups removed,
/// layers lowered a bit width) whose measured damage is within them. Pruning and quantization
/// plans share it, so they back off the same way.
extension PlanLimits {
    /// Whether the measured means respect every limit set (a missing metric does not).
    public func holds(_ means: [String: Double]) -> Bool {
        if let x = maxKL, (means["kl"] ?? .infinity) > x { return false }
        if let x = maxTop1, (means["top1"] ?? .infinity) > x { return false }
        if let x = maxAccDrop, (means["acc"] ?? .infinity) > x { return false }
        return true
    }

    /// The metrics the limits bound (KL when none is set), for progress lines.
    public func metricsText(_ means: [String: Double]) -> String {
        var names = [(maxKL, "kl"), (maxTop1, "top1"), (maxAccDrop, "acc")].filter { $0.0 != nil }.map(\.1)
        if names.isEmpty { names = ["kl"] }
        return names.map { "\($0) \(means[$0].map { String(format: "%.4g", $0) } ?? "missing")" }.joined(separator: ", ")
    }

    /// The longest prefix shorter than `count` whose measurement holds, by binary search (damage
    /// grows with the prefix, nearly always); 0 when none does. `measure(k)` measures the first k
    /// changes.
    public func longestPrefix(below count: Int, measure: (Int) throws -> [String: Double]) rethrows -> Int {
        var (low, high) = (0, count - 1)
        while low < high {
            let mid = (low + high + 1) / 2
            if holds(try measure(mid)) { low = mid } else { high = mid - 1 }
        }
        return max(low, 0)
    }
}
