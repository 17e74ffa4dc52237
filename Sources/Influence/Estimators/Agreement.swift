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
