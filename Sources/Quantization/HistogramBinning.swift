/// Counts values into the bins of ascending `edges` with `np.histogram`'s rule: bin i holds
/// edges[i] ≤ x < edges[i+1], the last bin also its right edge; values outside [edges.first,
/// edges.last] and NaNs are dropped (as numpy drops them when a range or edges are given).
///
/// The edges are doubles because onnxruntime's absolute-value histogram compares float32 values
/// with float64 edges once `np.arange` has extended them; float32 edges are exact in double, so
/// one routine serves both histograms.
///
/// O(1) per value and no allocation: the bin is first estimated as if the edges were evenly spaced
/// (they are, to rounding), then moved until the edge comparisons hold, which is the rule numpy's
/// fast path also ends with after its own estimate.
struct HistogramBinning {
    let edges: [Double]
    private let first: Double, last: Double, scale: Double

    init(edges: [Double]) {
        precondition(edges.count >= 2, "a histogram needs at least one bin")
        self.edges = edges
        first = edges[0]
        last = edges[edges.count - 1]
        scale = Double(edges.count - 1) / (last - first)
    }

    init(edges: [Float]) { self.init(edges: edges.map(Double.init)) }

    var bins: Int { edges.count - 1 }

    /// Adds the count of `values` (their absolute values when `absolute`) to `counts`.
    func count(_ values: UnsafeBufferPointer<Float>, absolute: Bool, into counts: inout [Int64]) {
        precondition(counts.count == bins)
        let top = bins - 1
        edges.withUnsafeBufferPointer { e in
            counts.withUnsafeMutableBufferPointer { c in
                for raw in values {
                    let x = Double(absolute ? abs(raw) : raw)
                    guard x >= first, x <= last else { continue }  // also drops NaN
                    var i = min(max(Int((x - first) * scale), 0), top)
                    while i > 0, x < e[i] { i -= 1 }
                    while i < top, x >= e[i + 1] { i += 1 }
                    c[i] += 1
                }
            }
        }
    }
}

/// The smallest and largest finite value of a batch (of its absolute values when `absolute`); nil
/// when it has none. onnxruntime takes nanmin/nanmax and then fails on an infinite range
/// (`np.histogram`: "range is not finite"); we leave infinities out instead. One pass, no allocation.
func finiteExtremes(_ values: UnsafeBufferPointer<Float>, absolute: Bool = false) -> (low: Float, high: Float)? {
    var low = Float.infinity, high = -Float.infinity, seen = false
    for raw in values {
        let v = absolute ? abs(raw) : raw
        guard v.isFinite else { continue }
        seen = true
        if v < low { low = v }
        if v > high { high = v }
    }
    return seen ? (low, high) : nil
}

/// Python's `min(a, b)` and `max(a, b)`, which keep `a` on a tie (so 0 and −0 stay as onnxruntime
/// has them; Swift's `max` returns the second).
func pythonMin(_ a: Float, _ b: Float) -> Float { b < a ? b : a }
func pythonMax(_ a: Float, _ b: Float) -> Float { b > a ? b : a }
