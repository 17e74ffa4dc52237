import NetworkIR

/// BatchNormalization in its inference (frozen) form: y = (x − μ)·γ/√(σ²+ε) + β with μ, σ² the
/// running statistics, as PyTorch's BatchNorm2d in eval mode.
enum NormalizationBackward {
    static func frozenBatchNorm(input x: Tensor, gamma: [Float], mean: [Float], variance: [Float], epsilon: Float,
                                outputGradient g: Tensor) -> (input: Tensor, gamma: Tensor, beta: Tensor) {
        let channels = x.shape[1]
        let inner = x.shape[2...].reduce(1, *)
        let planes = x.count / max(channels * inner, 1) * channels
        var dx = g
        var dGamma = [Double](repeating: 0, count: channels), dBeta = [Double](repeating: 0, count: channels)
        for plane in 0..<planes {
            let c = plane % channels
            let inverse = 1 / (variance[c] + epsilon).squareRoot()
            let scale = gamma[c] * inverse
            var sg = 0.0, sgx = 0.0
            let base = plane * inner
            for i in 0..<inner {
                let gi = g.storage[base + i]
                sg += Double(gi)
                sgx += Double(gi) * Double(x.storage[base + i] - mean[c])
                dx.storage[base + i] = gi * scale
            }
            dBeta[c] += sg
            dGamma[c] += sgx * Double(inverse)
        }
        return (dx, Tensor(shape: [channels], storage: dGamma.map(Float.init)), Tensor(shape: [channels], storage: dBeta.map(Float.init)))
    }
}
