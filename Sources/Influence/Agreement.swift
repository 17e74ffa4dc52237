/// How well a cheap estimator predicts measured influence: rank correlations and the overlap of
/// the weakest items, overall and per layer; and the items where the two disagree most (latent).
public enum Agreement {
    /// Ranks 1...n with ties given their average rank.
    static func ranks(_ x: [Double]) -> [Double] {
        let order = x.indices.sorted { x[$0] < x[$1] }
        var r = [Double](repeating: 0, count: x.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && x[order[j + 1]] == x[order[i]] { j += 1 }
            let average = Double(i + j) / 2 + 1
            for k in i...j { r[order[k]] = average }
            i = j + 1
        }
        return r
    }

    /// Spearman's ρ (Pearson correlation of the average ranks); nil for fewer than 3 items or a
    /// constant input.
    public static func spearman(_ x: [Double], _ y: [Double]) -> Double? {
        guard x.count == y.count, x.count >= 3 else { return nil }
        let (rx, ry) = (ranks(x), ranks(y))
        let n = Double(x.count)
        let (mx, my) = (rx.reduce(0, +) / n, ry.reduce(0, +) / n)
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for i in x.indices {
            let (a, b) = (rx[i] - mx, ry[i] - my)
            sxy += a * b; sxx += a * a; syy += b * b
        }
        guard sxx > 0, syy > 0 else { return nil }
        return sxy / (sxx * syy).squareRoot()
    }

    /// Kendall's τ-b (ties in either variable corrected); nil for fewer than 3 items or a
    /// constant input. O(n²): fine for the few thousand channels of a model.
    public static func kendall(_ x: [Double], _ y: [Double]) -> Double? {
        guard x.count == y.count, x.count >= 3 else { return nil }
        var concordant = 0.0, discordant = 0.0, tiesX = 0.0, tiesY = 0.0
        for i in 0..<x.count {
            for j in (i + 1)..<x.count {
                let dx = x[i] - x[j], dy = y[i] - y[j]
                if dx == 0 && dy == 0 { continue }
                if dx == 0 { tiesX += 1 } else if dy == 0 { tiesY += 1 } else if (dx > 0) == (dy > 0) { concordant += 1 } else { discordant += 1 }
            }
        }
        let denominator = ((concordant + discordant + tiesX) * (concordant + discordant + tiesY)).squareRoot()
        guard denominator > 0 else { return nil }
        return (concordant - discordant) / denominator
    }

    /// |weakest k by x ∩ weakest k by y| / k, ties broken by index.
    public static func bottomOverlap(_ x: [Double], _ y: [Double], k: Int) -> Double {
        guard k > 0 else { return 0 }
        let a = Set(x.indices.sorted { x[$0] != x[$1] ? x[$0] < x[$1] : $0 < $1 }.prefix(k))
        let b = Set(y.indices.sorted { y[$0] != y[$1] ? y[$0] < y[$1] : $0 < $1 }.prefix(k))
        return Double(a.intersection(b).count) / Double(k)
    }
}

extension ProfileReport {
    /// Fills each item's `latent` and returns the `agreement` section, from the items' estimator
    /// scores and measured influence. Items of the most fine-grained kind present (channels, else
    /// groups) are compared. `latent` uses the first estimator in `l1, l2, bn` order that the items
    /// carry: `hiddenCritical` — in the estimator's weakest fraction q but the measurement's
    /// strongest q; `hiddenWeak` — in the estimator's strongest q but measured weak.
    static func agreement(items: inout [JSONValue], latentFraction q: Double) -> JSONValue {
        let kind = items.contains { $0["kind"]?.stringValue == "channel" } ? "channel" : "group"
        let chosen = items.indices.filter { items[$0]["kind"]?.stringValue == kind }
        var section: [String: JSONValue] = [:]
        var latentSet = false
        for estimator in EstimatorKind.allCases {
            let rows = chosen.filter { items[$0]["estimators"]?[estimator.rawValue]?.doubleValue != nil }
            guard rows.count >= 3 else { continue }
            let scores = rows.map { items[$0]["estimators"]![estimator.rawValue]!.doubleValue! }
            let measured = rows.map { items[$0]["influence"]?["mean"]?.doubleValue ?? 0 }
            let k = max(1, rows.count / 10)
            var perLayer: [String: JSONValue] = [:]
            let layers = Dictionary(grouping: rows.indices) { items[rows[$0]]["layer"]?.stringValue ?? "" }
            for (layer, members) in layers {
                let s = members.map { scores[$0] }, m = members.map { measured[$0] }
                perLayer[layer] = .object(["n": .int(members.count), "spearman": Agreement.spearman(s, m).map { .double($0) } ?? .null,
                                           "kendall": Agreement.kendall(s, m).map { .double($0) } ?? .null])
            }
            section[estimator.rawValue] = .object([
                "items": .string(kind), "n": .int(rows.count), "k": .int(k),
                "spearman": Agreement.spearman(scores, measured).map { .double($0) } ?? .null,
                "kendall": Agreement.kendall(scores, measured).map { .double($0) } ?? .null,
                "bottomKOverlap": .double(Agreement.bottomOverlap(scores, measured, k: k)),
                "perLayer": .object(perLayer),
            ])
            if !latentSet {
                latentSet = true
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
                section["latent"] = .object(["estimator": .string(estimator.rawValue), "fraction": .double(q),
                                             "hiddenCritical": .int(counts.critical), "hiddenWeak": .int(counts.weak)])
            }
        }
        return .object(section)
    }
}
