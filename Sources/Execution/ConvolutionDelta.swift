import Linalg
import NetworkIR

/// The change of a convolution's output, added onto a cached output. A convolution is linear in
/// its input and in its weights: conv(x + Δx, W) = conv(x, W) + conv(Δx, W), and
/// conv(x, W + ΔW) = conv(x, W) + conv(x, ΔW). Incremental runs use the first (the changed input
/// channels, IncrementalUpdate.swift), the profiler's weight perturbations the second (the
/// changed filters, Influence/WeightPerturbation.swift): one computation on different operands,
/// so it lives here once. Exact up to float rounding (the sum is reassociated).
public enum ConvolutionDelta {
    /// Adds conv(`input`, `filters`) to the output channels `targets` of `output` (N, C, H', W'),
    /// for a convolution of one group: `input` is (N, `inputChannels`, `height`, `width`),
    /// `filters` is (`targets.count`, `inputChannels`, kh, kw). When `targets` is every output
    /// channel in order, the sum is the convolution's residual (no temporary output).
    public static func add(input: [Float], inputChannels: Int, height: Int, width: Int, filters: [Float],
                           attributes: ConvAttributes, targets: [Int], to output: inout Tensor, threads: Int) throws {
        let n = output.shape[0], channels = output.shape[1]
        let plane = output.shape.dropFirst(2).reduce(1, *)
        let conv = try Conv2D(weights: filters, bias: nil, geometry: geometry(attributes, inputChannels: inputChannels,
                                                                               outputChannels: targets.count, height: height, width: width))
        if targets == Array(0..<channels) {
            let old = output.storage
            try input.withUnsafeBufferPointer { src in
                try old.withUnsafeBufferPointer { residual in
                    try output.storage.withUnsafeMutableBufferPointer { dst in
                        try conv.run(input: src.baseAddress!, batch: n, inputHeight: height, inputWidth: width, output: dst.baseAddress!,
                                     residual: residual.baseAddress!, activation: .none, threads: threads)
                    }
                }
            }
            return
        }
        var delta = [Float](repeating: 0, count: n * targets.count * plane)
        try input.withUnsafeBufferPointer { src in
            try delta.withUnsafeMutableBufferPointer { dst in
                try conv.run(input: src.baseAddress!, batch: n, inputHeight: height, inputWidth: width, output: dst.baseAddress!,
                             residual: nil, activation: .none, threads: threads)
            }
        }
        for b in 0..<n {
            for (k, channel) in targets.enumerated() {
                for i in 0..<plane { output.storage[(b * channels + channel) * plane + i] += delta[(b * targets.count + k) * plane + i] }
            }
        }
    }

    /// Adds conv(`plane`, `filter`) to output channel `channel` of a depthwise convolution's
    /// `output`: `plane` is that channel's input, (N, 1, `height`, `width`), `filter` (1, 1, kh, kw).
    public static func addDepthwise(plane: [Float], height: Int, width: Int, filter: [Float], attributes: ConvAttributes,
                                    channel: Int, to output: inout Tensor, threads: Int) throws {
        let n = output.shape[0], channels = output.shape[1]
        let outPlane = output.shape.dropFirst(2).reduce(1, *)
        let conv = try Conv2D(weights: filter, bias: nil, geometry: geometry(attributes, inputChannels: 1, outputChannels: 1,
                                                                              height: height, width: width))
        var delta = [Float](repeating: 0, count: n * outPlane)
        try plane.withUnsafeBufferPointer { src in
            try delta.withUnsafeMutableBufferPointer { dst in
                try conv.run(input: src.baseAddress!, batch: n, inputHeight: height, inputWidth: width, output: dst.baseAddress!,
                             residual: nil, activation: .none, threads: threads)
            }
        }
        for b in 0..<n { for i in 0..<outPlane { output.storage[(b * channels + channel) * outPlane + i] += delta[b * outPlane + i] } }
    }

    /// The Linalg geometry of a 2-D convolution with `attributes` on a `height`×`width` input.
    static func geometry(_ attributes: ConvAttributes, inputChannels: Int, outputChannels: Int, height: Int, width: Int) -> ConvGeometry {
        let pads = attributes.resolvedPads(inputHeight: height, inputWidth: width)
        return ConvGeometry(inputChannels: inputChannels, outputChannels: outputChannels,
                            kernelHeight: attributes.kernel[0], kernelWidth: attributes.kernel[1],
                            strideHeight: attributes.strides[0], strideWidth: attributes.strides[1],
                            padTop: pads[0], padLeft: pads[1], padBottom: pads[2], padRight: pads[3],
                            dilationHeight: attributes.dilations[0], dilationWidth: attributes.dilations[1])
    }
}
