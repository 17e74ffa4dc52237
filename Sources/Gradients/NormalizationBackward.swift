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

    /// Training form forward: per channel, the batch mean and biased variance over (N, spatial).
    static func trainingForward(input x: Tensor, gamma: [Float], beta: [Float], epsilon: Float) -> (Tensor, BatchStatistics) {
        let channels = x.shape[1]
        let inner = x.shape[2...].reduce(1, *)
        let batch = x.shape[0]
        let count = batch * inner
        var mean = [Float](repeating: 0, count: channels), variance = [Float](repeating: 0, count: channels)
        for c in 0..<channels {
            var sum = 0.0
            for n in 0..<batch { let base = (n * channels + c) * inner; for i in 0..<inner { sum += Double(x.storage[base + i]) } }
            let m = sum / Double(count)
            var squares = 0.0
            for n in 0..<batch {
                let base = (n * channels + c) * inner
                for i in 0..<inner { let d = Double(x.storage[base + i]) - m; squares += d * d }
            }
            mean[c] = Float(m)
            variance[c] = Float(squares / Double(count))
        }
        var y = x
        for n in 0..<batch {
            for c in 0..<channels {
                let scale = gamma[c] / (variance[c] + epsilon).squareRoot()
                let base = (n * channels + c) * inner
                for i in 0..<inner { y.storage[base + i] = (x.storage[base + i] - mean[c]) * scale + beta[c] }
            }
        }
        return (y, BatchStatistics(mean: mean, variance: variance, count: count))
    }

    /// Training form backward, with x̂ = (x − μ_B)/√(σ²_B + ε) and M elements per channel:
    /// dx = γ/√(σ²_B + ε) · (g − mean(g) − x̂ · mean(g·x̂)), dγ = Σ g·x̂, dβ = Σ g.
    static func trainingBatchNorm(input x: Tensor, gamma: [Float], statistics: BatchStatistics, epsilon: Float,
                                  outputGradient g: Tensor) -> (input: Tensor, gamma: Tensor, beta: Tensor) {
        let channels = x.shape[1]
        let inner = x.shape[2...].reduce(1, *)
        let batch = x.shape[0]
        let count = Double(batch * inner)
        var dx = g
        var dGamma = [Float](repeating: 0, count: channels), dBeta = [Float](repeating: 0, count: channels)
        for c in 0..<channels {
            let inverse = 1 / Double(statistics.variance[c] + epsilon).squareRoot()
            let mean = Double(statistics.mean[c])
            var sg = 0.0, sgx = 0.0
            for n in 0..<batch {
                let base = (n * channels + c) * inner
                for i in 0..<inner {
                    let gi = Double(g.storage[base + i])
                    sg += gi
                    sgx += gi * (Double(x.storage[base + i]) - mean) * inverse
                }
            }
            dBeta[c] = Float(sg)
            dGamma[c] = Float(sgx)
            let scale = Double(gamma[c]) * inverse
            for n in 0..<batch {
                let base = (n * channels + c) * inner
                for i in 0..<inner {
                    let xhat = (Double(x.storage[base + i]) - mean) * inverse
                    dx.storage[base + i] = Float(scale * (Double(g.storage[base + i]) - sg / count - xhat * sgx / count))
                }
            }
        }
        return (dx, Tensor(shape: [channels], storage: dGamma), Tensor(shape: [channels], storage: dBeta))
    }
}
