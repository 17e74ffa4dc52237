import Support

/// The report's `agreement` section and each item's `latent` class.
extension ProfileReport {
    /// Spearman ρ at or above which an estimator is "good enough" to stand in for measuring a
    /// layer: the conventional threshold of a strong rank correlation. Documented in docs/report.md.
    public static let recommendationThreshold = 0.7

    /// Fills each item's `latent` and returns the `agreement` section, from the items' estimator
    /// scores and measured influence. Items of the most fine-grained kind present (channels, else
    /// groups) are compared. `latent` uses the first estimator in `EstimatorKind` order (l1, l2,
    /// bn, apoz, meanact, random) that the items carry: `hiddenCritical` — in the estimator's
    /// weakest fraction q but the measurement's strongest q; `hiddenWeak` — in the estimator's
    /// strongest q but measured weak.
    static func agreement(items: inout [JSONValue], latentFraction q: Double) -> JSONValue {
        let kind = items.contains { $0["kind"]?.stringValue == "channel" } ? "channel" : "group"
        let chosen = items.indices.filter { items[$0]["kind"]?.stringValue == kind }
        var section: [String: JSONValue] = [:]
        var latentSet = false
        var perLayerRho: [String: [(EstimatorKind, Double)]] = [:]
        var overallRho: [(EstimatorKind, Double)] = []
        for estimator in EstimatorKind.allCases {
            let rows = chosen.filter { items[$0]["estimators"]?[estimator.rawValue]?.doubleValue != nil }
            guard rows.count >= 3 else { continue }
            let scores = rows.map { estimator.oriented(items[$0]["estimators"]![estimator.rawValue]!.doubleValue!) }
            let measured = rows.map { items[$0]["influence"]?["mean"]?.doubleValue ?? 0 }
            let k = max(1, rows.count / 10)
            var perLayer: [String: JSONValue] = [:]
            let layers = Dictionary(grouping: rows.indices) { items[rows[$0]]["layer"]?.stringValue ?? "" }
            for (layer, members) in layers {
                let s = members.map { scores[$0] }, m = members.map { measured[$0] }
                let rho = Agreement.spearman(s, m)
                if let rho { perLayerRho[layer, default: []].append((estimator, rho)) }
                perLayer[layer] = .object(["n": .int(members.count), "spearman": rho.map { .double($0) } ?? .null,
                                           "kendall": Agreement.kendall(s, m).map { .double($0) } ?? .null])
            }
            let rho = Agreement.spearman(scores, measured)
            if let rho { overallRho.append((estimator, rho)) }
            section[estimator.rawValue] = .object([
                "items": .string(kind), "n": .int(rows.count), "k": .int(k),
                "spearman": rho.map { .double($0) } ?? .null,
                "kendall": Agreement.kendall(scores, measured).map { .double($0) } ?? .null,
                "bottomKOverlap": .double(Agreement.bottomOverlap(scores, measured, k: k)),
                "perLayer": .object(perLayer),
            ])
            if !latentSet {
                latentSet = true
                section["latent"] = markLatent(items: &items, rows: rows, scores: scores, measured: measured, estimator: estimator, q: q)
            }
        }
        if !overallRho.isEmpty {
            section["recommended"] = .object([
                "threshold": .double(recommendationThreshold),
                "overall": recommendation(overallRho),
                "perLayer": .object(perLayerRho.mapValues { recommendation($0) }),
            ])
        }
        return .object(section)
    }

    /// The cheapest estimator (by `EstimatorKind.cost`, then the higher ρ) whose Spearman ρ reaches
    /// the threshold; `measure` when none does. `random` is never recommended: it is the floor.
    public static func recommendation(_ candidates: [(EstimatorKind, Double)]) -> JSONValue {
        let good = candidates.filter { $0.0 != .random && $0.1 >= recommendationThreshold }
            .sorted { $0.0.cost != $1.0.cost ? $0.0.cost < $1.0.cost : $0.1 > $1.1 }
        guard let best = good.first else { return .object(["estimator": .string("measure"), "spearman": .null]) }
        return .object(["estimator": .string(best.0.rawValue), "spearman": .double(best.1)])
    }

    static func markLatent(items: inout [JSONValue], rows: [Int], scores: [Double], measured: [Double],
                           estimator: EstimatorKind, q: Double) -> JSONValue {
        let cut = max(1, Int((Double(rows.count) * q).rounded(.down)))
        let byScore = rows.indices.sorted { scores[$0] != scores[$1] ? scores[$0] < scores[$1] : $0 < $1 }
        let byMeasure = rows.indices.sorted { measured[$0] != measured[$1] ? measured[$0] < measured[$1] : $0 < $1 }
        let estimatorLow = Set(byScore.prefix(cut)), estimatorHigh = Set(byScore.suffix(cut))
        let measuredHigh = Set(byMeasure.suffix(cut))
        var counts = (critical: 0, weak: 0)
        for (i, row) in rows.enumerated() {
            var latent = "none"
            if estimatorLow.contains(i) && measuredHigh.contains(i) { latent = "hiddenCritical"; counts.critical += 1 }
            else if estimatorHigh.contains(i) && items[row]["weak"]?.boolValue == true { latent = "hiddenWeak"; counts.weak += 1 }
            if case .object(var o) = items[row] { o["latent"] = .string(latent); items[row] = .object(o) }
        }
        return .object(["estimator": .string(estimator.rawValue), "fraction": .double(q),
                        "hiddenCritical": .int(counts.critical), "hiddenWeak": .int(counts.weak)])
    }
}
