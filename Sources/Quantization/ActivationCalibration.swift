import NetworkIR

/// How an activation's range is chosen from calibration data (`--calibration`).
public enum CalibrationMethod: String, Sendable, CaseIterable, Equatable {
    /// The smallest and largest value seen: onnxruntime's MinMax calibrator (without moving
    /// averages), exactly.
    case minmax
    /// ±(the 99.999% point of a 2,048-bin |x| histogram), clamped to the values seen:
    /// onnxruntime's Percentile calibrator as quantize_static configures it (symmetric, because
    /// create_calibrator defaults `symmetric` to True for Percentile). `PercentileCalibrator`.
    case percentile
    /// The window of a 128-bin value histogram whose 128-bin requantization has the smallest KL
    /// divergence: onnxruntime's Entropy calibrator at its defaults. `EntropyCalibrator`.
    case entropy
}

/// Accumulates one activation tensor's values over calibration batches and gives its range.
public protocol ActivationCalibrator: Sendable {
    /// One calibration batch's values of the tensor (one onnxruntime `collect` call: the
    /// histogram calibrators merge per batch, so how values are split into batches matters).
    mutating func add(_ values: [Float])
    /// (rmin, rmax) of everything added; (0, 0) when nothing finite was seen.
    func range() -> (Float, Float)
}

/// onnxruntime's MinMaxCalibrater: the minimum and maximum over every calibration value
/// (NaNs ignored, as `numpy.nanmin` does).
public struct MinMaxCalibrator: ActivationCalibrator {
    var low = Float.infinity, high = -Float.infinity
    public init() {}
    public mutating func add(_ values: [Float]) {
        for v in values where !v.isNaN { low = min(low, v); high = max(high, v) }
    }
    public func range() -> (Float, Float) { low <= high ? (low, high) : (0, 0) }
}

extension CalibrationMethod {
    public func makeCalibrator() -> any ActivationCalibrator {
        switch self {
        case .minmax: MinMaxCalibrator()
        case .percentile: PercentileCalibrator()
        case .entropy: EntropyCalibrator()
        }
    }
}

/// The `QuantizeLinear → DequantizeLinear` pair for an activation of range (rmin, rmax) at B
/// bits, asymmetric and unsigned as onnxruntime quantizes activations (its default QUInt8):
/// the range widened to include 0, scale = (rmax − rmin) / (2^B − 1) in double, stored as float32
/// (1 with zero point 0 when that is below float32's smallest normal), zero point =
/// round_half_even(−rmin / scale) clamped to 0...2^B − 1 (onnxruntime's `compute_scale_zp`).
public enum ActivationQuantizer {
    public static func fakeQuantization(range: (Float, Float), bits: Int) -> FakeQuantization {
        let qmax = Double((1 << bits) - 1)
        let rmin = Double(min(range.0, 0)), rmax = Double(max(range.1, 0))
        let scale = (rmax - rmin) / qmax
        guard scale >= Double(Float.leastNormalMagnitude), scale.isFinite else {
            return FakeQuantization(scale: 1, zeroPoint: 0, dequantizeScale: 1, dequantizeZeroPoint: 0, lowest: 0, highest: Float(qmax))
        }
        let zeroPoint = Float(min(max((0 - rmin / scale).rounded(.toNearestOrEven), 0), qmax))
        let stored = Float(scale)
        return FakeQuantization(scale: stored, zeroPoint: zeroPoint, dequantizeScale: stored, dequantizeZeroPoint: zeroPoint,
                                lowest: 0, highest: Float(qmax))
    }
}
