/// A weight tensor rounded to B-bit symmetric integers, as ONNX Runtime's `quantize_static` writes
/// weights (its default for int8 weights: symmetric, range ±(2^(B−1) − 1), no zero point):
/// scale = max|w| / (2^(B−1) − 1), computed in double and stored as float32 (1 where every weight
/// is zero, as onnxruntime does), q = clamp(round_half_even(w / scale), −qmax, qmax) in float32 —
/// what `QuantizeLinear` computes — and w′ = q × scale, what `DequantizeLinear` gives back. One
/// definition serves the profiler's `quantize:B`, the quantization planner and the QDQ export, so
/// what is measured is what is written.
public struct QuantizedWeights: Sendable, Equatable {
    public var shape: [Int]
    /// The integers, in the tensor's element order.
    public var values: [Int32]
    /// One scale per index of `axis`, or one for the whole tensor.
    public var scales: [Float]
    /// The axis the scales run along (the output channels), nil for one scale.
    public var axis: Int?
    public var bits: Int

    /// The largest magnitude a B-bit symmetric integer takes here: 2^(B−1) − 1.
    public static func largest(bits: Int) -> Int { (1 << (bits - 1)) - 1 }

    public init(_ w: Tensor, bits: Int, axis: Int?) {
        precondition((2...16).contains(bits), "bits \(bits) outside 2...16")
        shape = w.shape
        self.bits = bits
        self.axis = axis
        let qmax = Float(Self.largest(bits: bits))
        let (outer, count, inner) = Self.split(w.shape, axis: axis)
        var peaks = [Float](repeating: 0, count: count)
        for o in 0..<outer {
            for c in 0..<count {
                let base = (o * count + c) * inner
                for i in 0..<inner { peaks[c] = max(peaks[c], abs(w.storage[base + i])) }
            }
        }
        scales = peaks.map { peak in peak > 0 && peak.isFinite ? Float(Double(peak) / Double(qmax)) : 1 }
        var q = [Int32](repeating: 0, count: w.count)
        for o in 0..<outer {
            for c in 0..<count {
                let base = (o * count + c) * inner
                let s = scales[c]
                for i in 0..<inner {
                    let r = (w.storage[base + i] / s).rounded(.toNearestOrEven)
                    q[base + i] = r.isNaN ? 0 : Int32(min(max(r, -qmax), qmax))
                }
            }
        }
        values = q
    }

    /// w′ = q × scale, in float32.
    public var dequantized: Tensor {
        let (outer, count, inner) = Self.split(shape, axis: axis)
        var out = [Float](repeating: 0, count: values.count)
        for o in 0..<outer {
            for c in 0..<count {
                let base = (o * count + c) * inner
                for i in 0..<inner { out[base + i] = Float(values[base + i]) * scales[c] }
            }
        }
        return Tensor(shape: shape, storage: out)
    }

    /// (product of the dimensions before `axis`, the axis length, the product after it).
    static func split(_ shape: [Int], axis: Int?) -> (Int, Int, Int) {
        guard let a = axis else { return (1, 1, shape.reduce(1, *)) }
        return (shape[..<a].reduce(1, *), shape[a], shape[(a + 1)...].reduce(1, *))
    }
}

/// One scale per output channel, or one for the whole tensor (`--quantize-granularity`).
public enum QuantizationGranularity: String, Sendable, CaseIterable, Equatable {
    case channel, tensor
}

extension Node {
    /// The axis of this node's weight (input 1) that holds its output channels — the axis
    /// per-channel scales run along, as onnxruntime chooses it: 0 for Conv (OIHW) and for Gemm
    /// with transB, 1 for a MatMul or Gemm weight stored (in, out). Nil for nodes without
    /// quantizable weights.
    public var weightOutputAxis: Int? {
        switch op {
        case .conv: return 0
        case .gemm(_, _, _, let transB): return transB ? 0 : 1
        case .matMul: return 1
        default: return nil
        }
    }
}
