/// onnxruntime's `get_entropy_threshold`: the KL-divergence search of its Entropy calibrator,
/// reproduced in its own arithmetic (int64 counts, float32 smoothing and divergence, numpy's
/// pairwise sums) because the chosen threshold is an argmin over float32 values and a last-bit
/// difference could pick another bin edge.
enum KLThresholdSearch {
    /// The bin range [start, end) whose edges become the thresholds. Windows grow one bin on each
    /// side of the centre bin (n / 2), from `quantizedBins / 2` bins per side to the whole
    /// histogram; the first window of smallest divergence wins.
    ///
    /// For a window, the reference p is its counts with everything outside added to its first and
    /// last bins; the candidate q merges the window's own counts (without outliers) into
    /// `quantizedBins` groups of ⌊width / quantizedBins⌋ bins (the leftover bins join the last
    /// group's total but stay 0 in q) and gives every bin of a group the group's total divided by
    /// the number of its bins where p is non-zero, truncated to an integer (onnxruntime fills p's
    /// zero bins too, unlike TensorRT's original). Both are smoothed, normalised and compared.
    static func bestWindow(counts: [Int64], quantizedBins: Int) -> Range<Int> {
        precondition(quantizedBins >= 1 && counts.count >= quantizedBins)
        let n = counts.count, centre = n / 2, half = quantizedBins / 2
        var prefix = [Int64](repeating: 0, count: n + 1)
        for i in 0..<n { prefix[i + 1] = prefix[i] + counts[i] }
        var windows: [Range<Int>] = [], divergences: [Float] = []
        var p = [Int64](), q = [Int64](), groups = [Int64](repeating: 0, count: quantizedBins)
        for i in half...centre {
            let start = centre - i, end = min(centre + i + 1, n), width = end - start
            p = Array(counts[start..<end])
            p[0] += prefix[start]
            p[width - 1] += prefix[n] - prefix[end]
            let merged = width / quantizedBins
            for g in 0..<quantizedBins {
                groups[g] = prefix[start + (g + 1) * merged] - prefix[start + g * merged]
            }
            groups[quantizedBins - 1] += prefix[end] - prefix[start + quantizedBins * merged]
            q = [Int64](repeating: 0, count: width)
            for g in 0..<quantizedBins {
                let slots = (g * merged)..<((g + 1) * merged)
                let nonzero = slots.reduce(0) { $0 + (p[$1] != 0 ? 1 : 0) }
                guard nonzero != 0 else { continue }
                let share = Int64(Double(groups[g]) / Double(nonzero))  // numpy casts to int64 by truncation
                for j in slots { q[j] = share }
            }
            windows.append(start..<end)
            divergences.append(klDivergence(p, q))
        }
        // np.argmin: the first minimum, or the first NaN if there is one.
        var best = 0
        for k in divergences.indices.dropFirst() {
            if divergences[best].isNaN { break }
            if divergences[k].isNaN || divergences[k] < divergences[best] { best = k }
        }
        return windows[best]
    }

    /// onnxruntime's `entropy(smooth_distribution(p), smooth_distribution(q))` in float32; +∞ when
    /// either is all zeros (`smooth_distribution` returns None) or too sparse to smooth (its
    /// assertion eps1 < 1 would fail).
    static func klDivergence(_ p: [Int64], _ q: [Int64]) -> Float {
        guard var ps = smoothed(p), var qs = smoothed(q) else { return .infinity }
        let pSum = ps.withUnsafeBufferPointer(NumpyFloat32.pairwiseSum)
        let qSum = qs.withUnsafeBufferPointer(NumpyFloat32.pairwiseSum)
        for j in ps.indices {
            ps[j] /= pSum
            qs[j] /= qSum
        }
        // scipy's rel_entr: p·log(p/q); 0 where p = 0 ≤ q; +∞ unless both are positive.
        var terms = [Float](repeating: 0, count: ps.count)
        for j in ps.indices {
            let pk = ps[j], qk = qs[j]
            if pk > 0 && qk > 0 {
                terms[j] = pk * NumpyFloat32.log(pk / qk)
            } else {
                terms[j] = pk == 0 && qk >= 0 ? 0 : .infinity
            }
        }
        return terms.withUnsafeBufferPointer(NumpyFloat32.pairwiseSum)
    }

    /// `smooth_distribution(p, eps=0.0001)`: zeros become eps and the non-zero bins give up
    /// eps1 = eps · zeros / nonzeros each, in float32 (eps rounded to float32, eps1 computed in
    /// double and rounded when added). nil when there is nothing to smooth or eps1 ≥ 1.
    static func smoothed(_ counts: [Int64]) -> [Float]? {
        let zeros = counts.reduce(0) { $0 + ($1 == 0 ? 1 : 0) }
        let nonzeros = Float(counts.count) - Float(zeros)
        guard nonzeros != 0 else { return nil }
        let eps1 = 0.0001 * Double(zeros) / Double(nonzeros)
        guard eps1 < 1 else { return nil }
        let eps = Float(0.0001), take = Float(-eps1)
        return counts.map { $0 == 0 ? eps : Float($0) + take }
    }
}
