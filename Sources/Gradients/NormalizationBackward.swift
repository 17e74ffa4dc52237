import Linalg
import NetworkIR
import Support

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

    /// Runs `body(channelRange)` over `channels` split into `threads` contiguous parts. Each
    /// channel's sums stay within one part, so the split changes no bit.
    static func overChannels(_ channels: Int, threads: Int, _ body: (Range<Int>) -> Void) {
        let parts = min(max(threads, 1), channels)
        guard parts > 1 else { body(0..<channels); return }
        WorkerThreads.run(parts: parts) { part in body(WorkerThreads.share(part, of: parts, count: channels)) }
    }

    /// Training form forward: per channel, the batch mean and biased variance over (N, spatial)
    /// (two passes, in Double), then y = (x − μ_B)·γ/√(σ²_B + ε) + β.
    static func trainingForward(input x: Tensor, gamma: [Float], beta: [Float], epsilon: Float,
                                threads: Int = 1) -> (Tensor, BatchStatistics) {
        let channels = x.shape[1]
        let inner = x.shape[2...].reduce(1, *)
        let batch = x.shape[0]
        let count = batch * inner
        var mean = [Float](repeating: 0, count: channels), variance = [Float](repeating: 0, count: channels)
        var y = x
        x.storage.withUnsafeBufferPointer { px in
            y.storage.withUnsafeMutableBufferPointer { py in
                mean.withUnsafeMutableBufferPointer { pm in
                    variance.withUnsafeMutableBufferPointer { pv in
                        let (xs, ys, ms, vs) = (px.baseAddress!, py.baseAddress!, pm.baseAddress!, pv.baseAddress!)
                        overChannels(channels, threads: threads) { range in
                            for c in range {
                                var sum = 0.0
                                for n in 0..<batch { let base = (n * channels + c) * inner; for i in 0..<inner { sum += Double(xs[base + i]) } }
                                let m = sum / Double(count)
                                var squares = 0.0
                                for n in 0..<batch {
                                    let base = (n * channels + c) * inner
                                    for i in 0..<inner { let d = Double(xs[base + i]) - m; squares += d * d }
                                }
                                ms[c] = Float(m)
                                vs[c] = Float(squares / Double(count))
                                let scale = gamma[c] / (vs[c] + epsilon).squareRoot()
                                for n in 0..<batch {
                                    let base = (n * channels + c) * inner
                                    for i in 0..<inner { ys[base + i] = (xs[base + i] - ms[c]) * scale + beta[c] }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (y, BatchStatistics(mean: mean, variance: variance, count: count))
    }

    /// Training form backward, with x̂ = (x − μ_B)/√(σ²_B + ε) and M elements per channel:
    /// dx = γ/√(σ²_B + ε) · (g − mean(g) − x̂ · mean(g·x̂)), dγ = Σ g·x̂, dβ = Σ g.
    static func trainingBatchNorm(input x: Tensor, gamma: [Float], statistics: BatchStatistics, epsilon: Float,
                                  outputGradient g: Tensor, threads: Int = 1) -> (input: Tensor, gamma: Tensor, beta: Tensor) {
        let channels = x.shape[1]
        let inner = x.shape[2...].reduce(1, *)
        let batch = x.shape[0]
        let count = Double(batch * inner)
        var dx = g
        var dGamma = [Float](repeating: 0, count: channels), dBeta = [Float](repeating: 0, count: channels)
        x.storage.withUnsafeBufferPointer { px in
            g.storage.withUnsafeBufferPointer { pg in
                dx.storage.withUnsafeMutableBufferPointer { pdx in
                    dGamma.withUnsafeMutableBufferPointer { pdg in
                        dBeta.withUnsafeMutableBufferPointer { pdb in
                            let (xs, gs, dxs, dgs, dbs) = (px.baseAddress!, pg.baseAddress!, pdx.baseAddress!, pdg.baseAddress!, pdb.baseAddress!)
                            overChannels(channels, threads: threads) { range in
                                for c in range {
                                    let inverse = 1 / Double(statistics.variance[c] + epsilon).squareRoot()
                                    let mean = Double(statistics.mean[c])
                                    var sg = 0.0, sgx = 0.0
                                    for n in 0..<batch {
                                        let base = (n * channels + c) * inner
                                        for i in 0..<inner {
                                            let gi = Double(gs[base + i])
                                            sg += gi
                                            sgx += gi * (Double(xs[base + i]) - mean) * inverse
                                        }
                                    }
                                    dbs[c] = Float(sg)
                                    dgs[c] = Float(sgx)
                                    let scale = Double(gamma[c]) * inverse
                                    for n in 0..<batch {
                                        let base = (n * channels + c) * inner
                                        for i in 0..<inner {
                                            let xhat = (Double(xs[base + i]) - mean) * inverse
                                            dxs[base + i] = Float(scale * (Double(gs[base + i]) - sg / count - xhat * sgx / count))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (dx, Tensor(shape: [channels], storage: dGamma), Tensor(shape: [channels], storage: dBeta))
    }
}
