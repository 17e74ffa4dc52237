import Execution
import Linalg
import NetworkIR

/// The first-consumer shortcut: when a perturbed activation T is read by a convolution K, K's
/// new raw output is its cached output plus the convolution of only the changed channels —
/// (factor − 1)·T[:, S] with K's weights for those input channels — a 1/C_in fraction of K's cost
/// instead of all of it. Exact up to float rounding (the sum is reassociated).
struct LinearConsumerUpdate: Sendable {
    /// The consumer node and its raw output (observable in the profiler's plan).
    let consumer: Int
    let output: ValueID
    let attributes: ConvAttributes
    /// OIHW weights of the consumer.
    let weights: Tensor

    /// Consumers of `value` that can be updated this way: Conv nodes with groups 1 or depthwise
    /// (multiplier 1) that read `value` as their data input.
    static func consumers(of value: ValueID, graph: Graph, consumers: [[Int]]) -> [LinearConsumerUpdate] {
        consumers[value].compactMap { k in
            let node = graph.nodes[k]
            guard case .conv(let a) = node.op, node.inputs[0] == value, !node.inputs.dropFirst().contains(value),
                  let w = graph.constants[node.inputs[1]] else { return nil }
            let depthwise = a.groups > 1 && w.shape[1] == 1 && a.groups == w.shape[0]
            guard a.groups == 1 || depthwise else { return nil }
            return LinearConsumerUpdate(consumer: k, output: node.outputs[0], attributes: a, weights: w)
        }
    }

    var isDepthwise: Bool { attributes.groups > 1 }

    /// The consumer's raw output after channels `channels` of its input `x` (N,C,H,W) are
    /// multiplied by `factor`.
    func updatedOutput(cached: Tensor, input x: Tensor, channels: [Int], factor: Float, threads: Int) throws -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let pads = attributes.resolvedPads(inputHeight: h, inputWidth: w)
        let (kh, kw) = (attributes.kernel[0], attributes.kernel[1])
        let outC = weights.shape[0]
        let scale = factor - 1
        var result = cached
        if isDepthwise {
            // Only output channel ch changes: a one-channel convolution per changed channel.
            let plane = h * w
            let outPlane = cached.shape[2] * cached.shape[3]
            for ch in channels where ch < c {
                let geometry = ConvGeometry(inputChannels: 1, outputChannels: 1, kernelHeight: kh, kernelWidth: kw,
                                            strideHeight: attributes.strides[0], strideWidth: attributes.strides[1],
                                            padTop: pads[0], padLeft: pads[1], padBottom: pads[2], padRight: pads[3],
                                            dilationHeight: attributes.dilations[0], dilationWidth: attributes.dilations[1])
                let conv = try Conv2D(weights: Array(weights.storage[ch * kh * kw ..< (ch + 1) * kh * kw]), bias: nil, geometry: geometry)
                var slice = [Float](repeating: 0, count: n * plane)
                for b in 0..<n { for i in 0..<plane { slice[b * plane + i] = x.storage[(b * c + ch) * plane + i] * scale } }
                var delta = [Float](repeating: 0, count: n * outPlane)
                try slice.withUnsafeBufferPointer { s in
                    try delta.withUnsafeMutableBufferPointer { d in
                        try conv.run(input: s.baseAddress!, batch: n, inputHeight: h, inputWidth: w, output: d.baseAddress!,
                                     residual: nil, activation: .none, threads: threads)
                    }
                }
                for b in 0..<n { for i in 0..<outPlane { result.storage[(b * outC + ch) * outPlane + i] += delta[b * outPlane + i] } }
            }
            return result
        }
        let k = channels.filter { $0 < c }
        guard !k.isEmpty else { return result }
        let perFilter = c * kh * kw
        var sliced = [Float](repeating: 0, count: outC * k.count * kh * kw)
        for o in 0..<outC {
            for (j, ch) in k.enumerated() {
                for t in 0..<(kh * kw) { sliced[(o * k.count + j) * kh * kw + t] = weights.storage[o * perFilter + ch * kh * kw + t] }
            }
        }
        let geometry = ConvGeometry(inputChannels: k.count, outputChannels: outC, kernelHeight: kh, kernelWidth: kw,
                                    strideHeight: attributes.strides[0], strideWidth: attributes.strides[1],
                                    padTop: pads[0], padLeft: pads[1], padBottom: pads[2], padRight: pads[3],
                                    dilationHeight: attributes.dilations[0], dilationWidth: attributes.dilations[1])
        let conv = try Conv2D(weights: sliced, bias: nil, geometry: geometry)
        let plane = h * w
        var input = [Float](repeating: 0, count: n * k.count * plane)
        for b in 0..<n {
            for (j, ch) in k.enumerated() {
                for i in 0..<plane { input[(b * k.count + j) * plane + i] = x.storage[(b * c + ch) * plane + i] * scale }
            }
        }
        // The cached output is the residual the kernel adds: out = cached + conv(changed channels).
        try input.withUnsafeBufferPointer { s in
            try cached.storage.withUnsafeBufferPointer { r in
                try result.storage.withUnsafeMutableBufferPointer { d in
                    try conv.run(input: s.baseAddress!, batch: n, inputHeight: h, inputWidth: w, output: d.baseAddress!,
                                 residual: r.baseAddress!, activation: .none, threads: threads)
                }
            }
        }
        return result
    }
}
