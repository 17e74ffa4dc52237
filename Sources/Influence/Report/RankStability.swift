import NetworkIR
import Support

/// Would more data change the ranking? Each item carries its influence on two disjoint halves of
/// the inputs (even and odd positions) and on a few bootstrap resamples of them; the report's
/// `stability` section gives Kendall's τ between the rankings these induce. The resamples are
/// joint: every item with the same number of inputs is resampled at the same input positions, as
/// re-running the profile on a resampled data set would.
public enum RankStability {
    /// Bootstrap resamples kept per item (small: they are written into every item).
    public static let resamples = 8

    /// An item's mean on the even-position and on the odd-position inputs; nil for fewer than two.
    public static func halves(_ values: [Double]) -> (even: Double, odd: Double)? {
        let n = values.count
        guard n >= 2 else { return nil }
        var even = 0.0, odd = 0.0
        for (i, v) in values.enumerated() { if i % 2 == 0 { even += v } else { odd += v } }
        return (even / Double((n + 1) / 2), odd / Double(n / 2))
    }

    /// The per-item `stability` object, or nil for fewer than two inputs.
    public static func itemObject(values: [Double], seed: UInt64) -> JSONValue? {
        let n = values.count
        guard let (even, odd) = halves(values) else { return nil }
        let halves: [JSONValue] = [.float(Float(even)), .float(Float(odd))]
        var rng = SplitMix64(seed: seed ^ 0x5AB1_E5EE_D000_0001)
        var means: [JSONValue] = []
        for _ in 0..<resamples {
            var s = 0.0
            for _ in 0..<n { s += values[Int(rng.next() % UInt64(n))] }
            means.append(.float(Float(s / Double(n))))
        }
        return .object(["halves": .array(halves), "resamples": .array(means)])
    }

    /// The report's `stability` section over the given items (those of one kind).
    public static func section(items: [JSONValue]) -> JSONValue {
        let rows = items.filter { $0["stability"]?["halves"]?.arrayValue?.count == 2 }
        guard rows.count >= 3 else { return .object(["n": .int(rows.count), "halvesKendall": .null, "bootstrapKendall": .null, "perLayer": .object([:])]) }
        let first = rows.map { $0["stability"]!["halves"]!.arrayValue![0].doubleValue ?? 0 }
        let second = rows.map { $0["stability"]!["halves"]!.arrayValue![1].doubleValue ?? 0 }
        let full = rows.map { $0["influence"]?["mean"]?.doubleValue ?? 0 }
        var taus: [Double] = []
        for r in 0..<resamples {
            let resampled = rows.map { $0["stability"]?["resamples"]?.arrayValue?[safe: r]?.doubleValue ?? 0 }
            if let t = Agreement.kendall(resampled, full) { taus.append(t) }
        }
        var perLayer: [String: JSONValue] = [:]
        for (layer, members) in Dictionary(grouping: rows.indices, by: { rows[$0]["layer"]?.stringValue ?? "" }) {
            let tau = Agreement.kendall(members.map { first[$0] }, members.map { second[$0] })
            perLayer[layer] = .object(["n": .int(members.count), "halvesKendall": tau.map { .double($0) } ?? .null])
        }
        let resampled = rows.map { ($0["stability"]?["resamples"]?.arrayValue ?? []).compactMap(\.doubleValue) }
        let inputs = rows.compactMap { $0["influence"]?["n"]?.intValue }.max() ?? 0
        return .object([
            "n": .int(rows.count),
            "halvesKendall": Agreement.kendall(first, second).map { .double($0) } ?? .null,
            "estimate": inputs >= 2 ? StabilityEstimate.object(means: full, resamples: resampled, measured: inputs) : .null,
            "bootstrapKendall": taus.isEmpty ? .null : .object([
                "resamples": .int(taus.count), "mean": .double(taus.reduce(0, +) / Double(taus.count)), "min": .double(taus.min()!),
            ]),
            "perLayer": .object(perLayer),
        ])
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
