/// onnxruntime's histogram of signed values (`HistogramCollector.collect_value` and
/// `merge_histogram`), used by its Entropy calibrator and its Percentile calibrator when not
/// symmetric. Kept bit-compatible because the calibrated thresholds are its bin edges.
///
/// The first batch sets a symmetric range ±T, T = max |x|, cut into `initialBins` equal bins. A
/// later batch whose own T is not larger is counted into the same bins. A larger T grows the
/// histogram by whole old-width bins on both sides (so old bins keep their place and are added
/// positionally) until it covers the new T; when the old T was 0 the new batch's ±T is cut into
/// the old number of bins and the old counts added positionally, as onnxruntime does.
struct ValueHistogram: Sendable {
    let initialBins: Int
    private(set) var counts: [Int64] = []
    private(set) var edges: [Float] = []
    private(set) var threshold: Float = 0
    /// Smallest and largest value seen (onnxruntime clamps the thresholds to them).
    private(set) var low: Float = 0, high: Float = 0

    init(bins: Int) {
        precondition(bins >= 1)
        initialBins = bins
    }

    var isEmpty: Bool { counts.isEmpty }

    /// One calibration batch (one `collect` call in onnxruntime). A batch without a finite value
    /// is skipped (onnxruntime would fail on it or, when empty, fold a 0 into the range).
    mutating func add(_ values: UnsafeBufferPointer<Float>) {
        guard let (batchLow, batchHigh) = finiteExtremes(values) else { return }
        // Python's max(|min|, |max|) keeps the first of two equals; the magnitudes are then equal.
        let batchThreshold = max(abs(batchLow), abs(batchHigh))
        guard !isEmpty else {
            threshold = batchThreshold
            (edges, counts) = Self.histogram(values, bins: initialBins, threshold: batchThreshold)
            (low, high) = (batchLow, batchHigh)
            return
        }
        (low, high) = (pythonMin(low, batchLow), pythonMax(high, batchHigh))
        if batchThreshold <= threshold {
            let (_, fresh) = Self.histogram(values, bins: counts.count, threshold: threshold)
            for i in counts.indices { counts[i] += fresh[i] }
        } else if threshold == 0 {
            var (newEdges, fresh) = Self.histogram(values, bins: counts.count, threshold: batchThreshold)
            for i in counts.indices { fresh[i] += counts[i] }
            (edges, counts, threshold) = (newEdges, fresh, batchThreshold)
        } else {
            let oldBins = counts.count
            let stride = 2 * threshold / Float(oldBins)
            let added = Int(NumpyFloat32.floorDivide(batchThreshold - threshold, stride) + 1)
            let grown = Float(added) * stride + threshold
            var (newEdges, fresh) = Self.histogram(values, bins: oldBins + 2 * added, threshold: grown)
            for i in counts.indices { fresh[added + i] += counts[i] }
            (edges, counts, threshold) = (newEdges, fresh, grown)
        }
    }

    /// `np.histogram(values, bins, range=(-threshold, threshold))` in float32.
    private static func histogram(_ values: UnsafeBufferPointer<Float>, bins: Int, threshold: Float) -> ([Float], [Int64]) {
        let (first, last) = NumpyFloat32.outerEdges(-threshold, threshold)
        let edges = NumpyFloat32.linspaceEdges(from: first, to: last, bins: bins)
        var counts = [Int64](repeating: 0, count: bins)
        HistogramBinning(edges: edges).count(values, absolute: false, into: &counts)
        return (edges, counts)
    }
}
