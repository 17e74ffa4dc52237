/// onnxruntime's Entropy calibrator (`HistogramCollector.collect_value` and
/// `get_entropy_threshold`) at quantize_static's defaults: 128 bins, 128 quantized bins. The range
/// is the symmetric window around the histogram's centre whose `quantizedBins`-bin requantization
/// loses least information (smallest KL divergence), clamped to the values seen.
///
/// At the defaults the window can only move once the histogram has grown past 128 bins, i.e. once
/// a later batch had a wider range than the first; until then the window is the whole histogram
/// and the range is the min/max range. Each `add` is one onnxruntime `collect` call (see
/// `PercentileCalibrator` for what that means for quantize_static).
public struct EntropyCalibrator: ActivationCalibrator {
    public static let defaultBins = 128
    public static let defaultQuantizedBins = 128

    public let quantizedBins: Int
    private var histogram: ValueHistogram

    public init(bins: Int = defaultBins, quantizedBins: Int = defaultQuantizedBins) {
        // Fewer bins than quantized bins leaves no window to try (onnxruntime fails the same way).
        precondition(quantizedBins >= 1 && bins >= quantizedBins, "need bins ≥ quantizedBins ≥ 1")
        histogram = ValueHistogram(bins: bins)
        self.quantizedBins = quantizedBins
    }

    public mutating func add(_ values: [Float]) {
        values.withUnsafeBufferPointer { histogram.add($0) }
    }

    public func range() -> (Float, Float) {
        guard !histogram.isEmpty else { return (0, 0) }
        let window = KLThresholdSearch.bestWindow(counts: histogram.counts, quantizedBins: quantizedBins)
        var lower = histogram.edges[window.lowerBound], upper = histogram.edges[window.upperBound]
        if lower < histogram.low { lower = histogram.low }
        if upper > histogram.high { upper = histogram.high }
        return (lower, upper)
    }
}
