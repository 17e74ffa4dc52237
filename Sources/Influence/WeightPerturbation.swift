import Foundation
import Execution
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

    /// Seeded standard normal values (Box–Muller on SplitMix64), the same on every machine.
    static func normals(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        var out: [Float] = []
        out.reserveCapacity(count)
        while out.count < count {
            let (r, theta) = BoxMuller.polar(rng.next(), rng.next())
            out.append(Float(r * Foundation.cos(theta)))
            if out.count < count { out.append(Float(r * Foundation.sin(theta))) }
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
                if a.groups == 1 {
                    try ConvolutionDelta.add(input: x.storage, inputChannels: inC, height: h, width: wd,
                                             filters: channels.flatMap { delta.weight[$0]! }, attributes: a, targets: channels,
                                             to: &output, threads: threads)
                } else if a.groups == inC && a.groups == c {
                    for ch in channels {
                        let inputPlane = h * wd
                        var single: [Float] = []
                        single.reserveCapacity(n * inputPlane)
                        for b in 0..<n { single += x.storage[((b * inC + ch) * inputPlane)..<((b * inC + ch + 1) * inputPlane)] }
                        try ConvolutionDelta.addDepthwise(plane: single, height: h, width: wd, filter: delta.weight[ch]!, attributes: a,
                                                          channel: ch, to: &output, threads: threads)
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
