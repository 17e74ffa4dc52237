/// onnxruntime's Percentile calibrator (`HistogramCollector.compute_percentile`): the range is cut
/// where the cumulative histogram reaches the percentile, then clamped to the values seen.
///
/// Defaults are quantize_static's with `CalibrationMethod.Percentile`: 2,048 bins, percentile
/// 99.999 and **symmetric**, because quantize_static passes no `symmetric` unless
/// `CalibTensorRangeSymmetric` is given and `create_calibrator` then defaults it to True. Symmetric
/// histograms |x| and takes ±(edge at 99.999%); not symmetric histograms x over ±max|x| and takes
/// the edges at 0.0005% and 99.9995% (PercentileCalibrater's own class default).
///
/// Each `add` is one onnxruntime `collect` call: histograms of successive batches are merged as
/// onnxruntime merges them (which is what quantize_static does with `CalibStridedMinMax`). Without
/// that option quantize_static stacks all batches into one `collect`, which is `add` of their
/// concatenation here.
public struct PercentileCalibrator: ActivationCalibrator {
    public static let defaultBins = 2048
    public static let defaultPercentile = 99.999

    public let symmetric: Bool
    public let percentile: Double
    /// Exactly one is set: the |x| histogram when symmetric, the signed one when not.
    private var absolute: AbsoluteHistogram?
    private var value: ValueHistogram?

    public init(symmetric: Bool = true, bins: Int = defaultBins, percentile: Double = defaultPercentile) {
        precondition((0...100).contains(percentile), "percentile must be within 0...100")
        self.symmetric = symmetric
        self.percentile = percentile
        if symmetric { absolute = AbsoluteHistogram(bins: bins) } else { value = ValueHistogram(bins: bins) }
    }

    public mutating func add(_ values: [Float]) {
        values.withUnsafeBufferPointer { buffer in
            absolute?.add(buffer)
            value?.add(buffer)
        }
    }

    public func range() -> (Float, Float) {
        let counts: [Int64], edges: [Float], low: Float, high: Float
        if let h = absolute { (counts, edges, low, high) = (h.counts, h.edges, h.low, h.high) }
        else if let h = value { (counts, edges, low, high) = (h.counts, h.edges, h.low, h.high) }
        else { return (0, 0) }
        let cdf = Self.cumulativeFractions(counts)
        guard !cdf.isEmpty, cdf.allSatisfy(\.isFinite) else { return (0, 0) }
        var lower: Float, upper: Float
        if symmetric {
            let edge = edges[Self.searchSorted(cdf, percentile / 100.0)]
            (lower, upper) = (-edge, edge)
        } else {
            let cut = (100.0 - percentile) / 200.0
            (lower, upper) = (edges[Self.searchSorted(cdf, cut)], edges[Self.searchSorted(cdf, 1.0 - cut)])
        }
        if lower < low { lower = low }
        if upper > high { upper = high }
        return (lower, upper)
    }

    /// `np.cumsum(hist / hist.sum())`: each count over the total in double, summed in order.
    static func cumulativeFractions(_ counts: [Int64]) -> [Double] {
        let total = Double(counts.reduce(0, +))
        var running = 0.0
        return counts.map { running += Double($0) / total; return running }
    }

    /// `np.searchsorted(sorted, value)` (side "left"): the first index whose element is ≥ value.
    static func searchSorted(_ sorted: [Double], _ value: Double) -> Int {
        var low = 0, high = sorted.count
        while low < high {
            let mid = (low + high) / 2
            if sorted[mid] < value { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
