/// onnxruntime's Percentile calibrator (HistogramCollector, `collect_value` and
/// `compute_percentile`, not symmetric). Placeholder: the range of the values, until the
/// histogram is built.
public struct PercentileCalibrator: ActivationCalibrator {
    var minmax = MinMaxCalibrator()
    public init() {}
    public mutating func add(_ values: [Float]) { minmax.add(values) }
    public func range() -> (Float, Float) { minmax.range() }
}
