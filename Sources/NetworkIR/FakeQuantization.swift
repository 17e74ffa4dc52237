/// A `QuantizeLinear → DequantizeLinear` pair on an activation, run in float32 as ONNX defines
/// the two: q = saturate(round_half_even(x / scale) + zeroPoint) into `lowest...highest`, then
/// y = (q − dequantizeZeroPoint) × dequantizeScale. Per tensor (one scale), which is how
/// quantizers (onnxruntime's quantize_static, TensorRT's QAT exports) quantize activations, so a
/// quantized export can be profiled as it will run.
public struct FakeQuantization: Sendable, Equatable {
    public var scale: Float
    public var zeroPoint: Float
    public var dequantizeScale: Float
    public var dequantizeZeroPoint: Float
    /// The range of the integer type (int8: -128...127, uint8: 0...255).
    public var lowest: Float
    public var highest: Float

    public init(scale: Float, zeroPoint: Float, dequantizeScale: Float, dequantizeZeroPoint: Float, lowest: Float, highest: Float) {
        self.scale = scale
        self.zeroPoint = zeroPoint
        self.dequantizeScale = dequantizeScale
        self.dequantizeZeroPoint = dequantizeZeroPoint
        self.lowest = lowest
        self.highest = highest
    }

    @inline(__always)
    public func apply(_ x: Float) -> Float {
        // NaN quantizes to the zero point, as onnxruntime's saturating cast does.
        let rounded = (x / scale).rounded(.toNearestOrEven)
        let q = rounded.isNaN ? zeroPoint : min(max(rounded + zeroPoint, lowest), highest)
        return (q - dequantizeZeroPoint) * dequantizeScale
    }

    /// Whether the gradient passes at `x` (the straight-through estimator: inside the range).
    @inline(__always)
    public func passesGradient(_ x: Float) -> Bool {
        let q = (x / scale).rounded(.toNearestOrEven) + zeroPoint
        return q >= lowest && q <= highest
    }
}
