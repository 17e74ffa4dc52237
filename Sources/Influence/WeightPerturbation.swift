import Foundation
import Linalg
import NetworkIR
import Support

/// Perturbations of weights (noise, quantization, unstructured pruning, and any perturbation of a
/// parameter tensor), measured without rebuilding the network: a producer is linear in its
/// weights, so changing them by ΔW changes its raw output by conv(x, ΔW) (or x·ΔW for a dense
/// layer) and by Δb per channel. That change is computed from the cached input x, added to the
/// cached output, and the downstream cone is re-run as for any other item.
struct WeightDelta {
    /// Per output channel that changes, ΔW of its filter (OIHW rows; dense: the output's weights
    /// in the stored layout) and Δb.
    var weight: [Int: [Float]] = [:]
    var bias: [Int: Float] = [:]
    var isEmpty: Bool { weight.isEmpty && bias.isEmpty }
}

enum WeightPerturbation {
    /// The weights of output channel `c` of a producer's weight tensor, as a flat list, and where
    /// each came from (for writing a delta back in the stored layout).
    static func filter(_ w: Tensor, node: Node, channel c: Int) -> [Float] {
        switch node.op {
        case .conv:
            let per = w.count / w.shape[0]
            return Array(w.storage[c * per ..< (c + 1) * per])
        case .gemm(_, _, _, let transB) where transB:
            let cols = w.shape[1]
            return Array(w.storage[c * cols ..< (c + 1) * cols])
        default:
            let (rows, cols) = (w.shape[0], w.shape[1])
            return (0..<rows).map { w.storage[$0 * cols + c] }
        }
    }

    /// Rounds to B-bit symmetric integers with one scale for all `values`.
    static func quantized(_ values: [Float], bits: Int) -> [Float] {
        let peak = values.map { abs($0) }.max() ?? 0
        guard peak > 0 else { return values }
        let levels = Float((1 << (bits - 1)) - 1)
        let scale = peak / levels
        return values.map { (($0 / scale).rounded(.toNearestOrEven)).clamped(-levels, levels) * scale }
    }

    /// Seeded standard normal values (Box–Muller on SplitMix64), the same on every machine.
    static func normals(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        var out: [Float] = []
        out.reserveCapacity(count)
        while out.count < count {
            let u1 = (Double(rng.next() >> 11) + 1) / Double(1 << 53), u2 = Double(rng.next() >> 11) / Double(1 << 53)
            let r = (-2 * Foundation.log(u1)).squareRoot()
            out.append(Float(r * Foundation.cos(2 * Double.pi * u2)))
            if out.count < count { out.append(Float(r * Foundation.sin(2 * Double.pi * u2))) }
        }
        return out
    }

    static func standardDeviation(_ v: [Float]) -> Float {
        guard v.count > 1 else { return 0 }
        let m = v.reduce(0.0) { $0 + Double($1) } / Double(v.count)
        return Float((v.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) } / Double(v.count - 1)).squareRoot())
    }

    /// Adds the producer output change of `delta` to `output` (N, C, …), given the producer's
    /// cached input.
    static func apply(_ delta: WeightDelta, node: Node, weights w: Tensor, input x: Tensor, to output: inout Tensor, threads: Int) throws {
        let n = output.shape[0], c = output.shape[1]
        let plane = output.shape.dropFirst(2).reduce(1, *)
        let channels = Array(delta.weight.keys).sorted()
        if !channels.isEmpty {
            switch node.op {
            case .conv(let a):
                let (inC, h, wd) = (x.shape[1], x.shape[2], x.shape[3])
                let pads = a.resolvedPads(inputHeight: h, inputWidth: wd)
                let (kh, kw) = (a.kernel[0], a.kernel[1])
                func geometry(_ i: Int, _ o: Int) -> ConvGeometry {
                    ConvGeometry(inputChannels: i, outputChannels: o, kernelHeight: kh, kernelWidth: kw,
                                 strideHeight: a.strides[0], strideWidth: a.strides[1], padTop: pads[0], padLeft: pads[1],
                                 padBottom: pads[2], padRight: pads[3], dilationHeight: a.dilations[0], dilationWidth: a.dilations[1])
                }
                if a.groups == 1 {
                    let conv = try Conv2D(weights: channels.flatMap { delta.weight[$0]! }, bias: nil, geometry: geometry(inC, channels.count))
                    var d = [Float](repeating: 0, count: n * channels.count * plane)
                    try x.storage.withUnsafeBufferPointer { src in
                        try d.withUnsafeMutableBufferPointer { dst in
                            try conv.run(input: src.baseAddress!, batch: n, inputHeight: h, inputWidth: wd, output: dst.baseAddress!,
                                         residual: nil, activation: .none, threads: threads)
                        }
                    }
                    for b in 0..<n {
                        for (k, ch) in channels.enumerated() {
                            for i in 0..<plane { output.storage[(b * c + ch) * plane + i] += d[(b * channels.count + k) * plane + i] }
                        }
                    }
                } else if a.groups == inC && a.groups == c {
                    for ch in channels {
                        let conv = try Conv2D(weights: delta.weight[ch]!, bias: nil, geometry: geometry(1, 1))
                        var single = [Float](repeating: 0, count: n * h * wd)
                        for b in 0..<n { for i in 0..<(h * wd) { single[b * h * wd + i] = x.storage[(b * inC + ch) * h * wd + i] } }
                        var d = [Float](repeating: 0, count: n * plane)
                        try single.withUnsafeBufferPointer { src in
                            try d.withUnsafeMutableBufferPointer { dst in
                                try conv.run(input: src.baseAddress!, batch: n, inputHeight: h, inputWidth: wd, output: dst.baseAddress!,
                                             residual: nil, activation: .none, threads: threads)
                            }
                        }
                        for b in 0..<n { for i in 0..<plane { output.storage[(b * c + ch) * plane + i] += d[b * plane + i] } }
                    }
                } else {
                    throw InfluenceError("\(node.name): weight perturbations of grouped (not depthwise) convolutions are not implemented")
                }
            case .gemm, .matMul:
                var alpha: Float = 1
                if case .gemm(let a, _, let transA, _) = node.op {
                    guard !transA else { throw InfluenceError("\(node.name): weight perturbations of a Gemm with transA are not supported") }
                    alpha = a
                }
                let features = x.count / n
                for ch in channels {
                    let dw = delta.weight[ch]!
                    for b in 0..<n {
                        var s: Float = 0
                        for i in 0..<features { s += x.storage[b * features + i] * dw[i] }
                        output.storage[b * c + ch] += alpha * s
                    }
                }
            default:
                throw InfluenceError("\(node.name): weight perturbations of \(node.op.onnxName) are not supported")
            }
        }
        var biasScale: Float = 1
        if case .gemm(_, let beta, _, _) = node.op { biasScale = beta }
        for (ch, db) in delta.bias { for b in 0..<n { for i in 0..<plane { output.storage[(b * c + ch) * plane + i] += biasScale * db } } }
    }
}

extension Comparable {
    fileprivate func clamped(_ low: Self, _ high: Self) -> Self { min(max(self, low), high) }
}
