/// onnxruntime's histogram of absolute values (`HistogramCollector.collect_absolute_value`),
/// used by its Percentile calibrator when symmetric — which is quantize_static's default for
/// Percentile. Kept bit-compatible because the calibrated threshold is one of its bin edges.
///
/// The first batch's |x| from its smallest to its largest is cut into `initialBins` equal bins
/// (so the histogram does not start at 0). A later batch is counted into the same edges, extended
/// first on the right by whole first-bin widths (`np.arange`, in double) when its largest |x|
/// passes the last edge; old counts keep their bins. Values below the first edge — possible when
/// the first batch had no value near 0 — are dropped, as numpy drops them.
struct AbsoluteHistogram: Sendable {
    let initialBins: Int
    private(set) var counts: [Int64] = []
    /// Stored as float32 like onnxruntime's (`hist_edges.astype(float32)` after each batch).
    private(set) var edges: [Float] = []
    /// Smallest and largest signed value seen (onnxruntime clamps the thresholds to them).
    private(set) var low: Float = 0, high: Float = 0

    init(bins: Int) {
        precondition(bins >= 1)
        initialBins = bins
    }

    var isEmpty: Bool { counts.isEmpty }

    /// One calibration batch (one `collect` call in onnxruntime). A batch without a finite value
    /// is skipped (onnxruntime would fail on it).
    mutating func add(_ values: UnsafeBufferPointer<Float>) {
        guard let (batchLow, batchHigh) = finiteExtremes(values),
              let (smallest, magnitude) = finiteExtremes(values, absolute: true) else { return }
        guard !isEmpty else {
            let (first, last) = NumpyFloat32.outerEdges(smallest, magnitude)
            edges = NumpyFloat32.linspaceEdges(from: first, to: last, bins: initialBins)
            counts = [Int64](repeating: 0, count: initialBins)
            HistogramBinning(edges: edges).count(values, absolute: true, into: &counts)
            (low, high) = (batchLow, batchHigh)
            return
        }
        var binEdges = edges.map(Double.init)
        let lastEdge = edges[edges.count - 1]
        if magnitude > lastEdge {
            let width = edges[1] - edges[0]
            binEdges += NumpyFloat32.arange(start: lastEdge + width, stop: magnitude + width, step: width)
        }
        let binning = HistogramBinning(edges: binEdges)
        var fresh = [Int64](repeating: 0, count: binning.bins)
        binning.count(values, absolute: true, into: &fresh)
        for i in counts.indices { fresh[i] += counts[i] }
        counts = fresh
        edges = binEdges.map(Float.init)
        (low, high) = (pythonMin(low, batchLow), pythonMax(high, batchHigh))
    }
}
