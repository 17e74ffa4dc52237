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

    /// Σ x[i] and Σ (x[i] − shift)² over `count` floats, in Double, in four interleaved chains
    /// (element i in chain i mod 4, chains added in order at the end).
    @inline(__always)
    static func sums(_ x: UnsafePointer<Float>, count: Int, shift: Double?) -> Double {
        var (s0, s1, s2, s3) = (0.0, 0.0, 0.0, 0.0)
        var i = 0
        if let shift {
            while i + 4 <= count {
                let (d0, d1) = (Double(x[i]) - shift, Double(x[i + 1]) - shift)
                let (d2, d3) = (Double(x[i + 2]) - shift, Double(x[i + 3]) - shift)
                s0 += d0 * d0; s1 += d1 * d1; s2 += d2 * d2; s3 += d3 * d3
                i += 4
            }
            while i < count { let d = Double(x[i]) - shift; s0 += d * d; i += 1 }
        } else {
            while i + 4 <= count {
                s0 += Double(x[i]); s1 += Double(x[i + 1]); s2 += Double(x[i + 2]); s3 += Double(x[i + 3])
                i += 4
            }
            while i < count { s0 += Double(x[i]); i += 1 }
        }
        return (s0 + s1) + (s2 + s3)
    }

    /// Training form forward: per channel, the batch mean and biased variance over (N, spatial)
    /// (two passes, in Double), then y = (x − μ_B)·γ/√(σ²_B + ε) + β. Channels split over the
    /// threads.
    static func trainingForward(input x: Tensor, gamma: [Float], beta: [Float], epsilon: Float,
                                threads: Int = 1) -> (Tensor, BatchStatistics) {
        let channels = x.shape[1]
        let inner = x.shape[2...].reduce(1, *)
        let batch = x.shape[0]
        let count = batch * inner
        var mean = [Float](repeating: 0, count: channels), variance = [Float](repeating: 0, count: channels)
        let y = Tensor(shape: x.shape) { py in
            x.storage.withUnsafeBufferPointer { px in
                mean.withUnsafeMutableBufferPointer { pm in
                    variance.withUnsafeMutableBufferPointer { pv in
                        let (xs, ys, ms, vs) = (px.baseAddress!, py.baseAddress!, pm.baseAddress!, pv.baseAddress!)
                        overChannels(channels, threads: threads) { range in
                            for c in range {
                                var sum = 0.0
                                for n in 0..<batch { sum += sums(xs + (n * channels + c) * inner, count: inner, shift: nil) }
                                let m = sum / Double(count)
                                var squares = 0.0
                                for n in 0..<batch { squares += sums(xs + (n * channels + c) * inner, count: inner, shift: m) }
                                ms[c] = Float(m)
                                vs[c] = Float(squares / Double(count))
                                let scale = gamma[c] / (vs[c] + epsilon).squareRoot()
                                let (mc, bc) = (ms[c], beta[c])
                                for n in 0..<batch {
                                    let base = (n * channels + c) * inner
                                    let (src, dst) = (xs + base, ys + base)
                                    for i in 0..<inner { dst[i] = (src[i] - mc) * scale + bc }
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
    /// dx = γ/√(σ²_B + ε) · (g − mean(g) − x̂ · mean(g·x̂)), dγ = Σ g·x̂, dβ = Σ g. The sums run in
    /// Double (four interleaved chains); dx per element in Float as
    /// s·(g − mean(g)) − k·(x − μ_B) with s = γ/√(σ²_B + ε), k = s·mean(g·x̂)/√(σ²_B + ε).
    /// Channels split over the threads.
    static func trainingBatchNorm(input x: Tensor, gamma: [Float], statistics: BatchStatistics, epsilon: Float,
                                  outputGradient g: Tensor, threads: Int = 1) -> (input: Tensor, gamma: Tensor, beta: Tensor) {
        let channels = x.shape[1]
        let inner = x.shape[2...].reduce(1, *)
        let batch = x.shape[0]
        let count = Double(batch * inner)
        var dGamma = [Float](repeating: 0, count: channels), dBeta = [Float](repeating: 0, count: channels)
        let dx = Tensor(shape: x.shape) { pdx in
            x.storage.withUnsafeBufferPointer { px in
                g.storage.withUnsafeBufferPointer { pg in
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
                                        let (gp, xp) = (gs + base, xs + base)
                                        var (a0, a1, a2, a3) = (0.0, 0.0, 0.0, 0.0)
                                        var (b0, b1, b2, b3) = (0.0, 0.0, 0.0, 0.0)
                                        var i = 0
                                        while i + 4 <= inner {
                                            let (g0, g1, g2, g3) = (Double(gp[i]), Double(gp[i + 1]), Double(gp[i + 2]), Double(gp[i + 3]))
                                            a0 += g0; a1 += g1; a2 += g2; a3 += g3
                                            b0 += g0 * (Double(xp[i]) - mean); b1 += g1 * (Double(xp[i + 1]) - mean)
                                            b2 += g2 * (Double(xp[i + 2]) - mean); b3 += g3 * (Double(xp[i + 3]) - mean)
                                            i += 4
                                        }
                                        while i < inner { let gi = Double(gp[i]); a0 += gi; b0 += gi * (Double(xp[i]) - mean); i += 1 }
                                        sg += (a0 + a1) + (a2 + a3)
                                        sgx += (b0 + b1) + (b2 + b3)
                                    }
                                    sgx *= inverse
                                    dbs[c] = Float(sg)
                                    dgs[c] = Float(sgx)
                                    let scale = Double(gamma[c]) * inverse
                                    let s = Float(scale), k = Float(scale * inverse * sgx / count)
                                    let (mg, mc) = (Float(sg / count), Float(mean))
                                    for n in 0..<batch {
                                        let base = (n * channels + c) * inner
                                        let (gp, xp, dp) = (gs + base, xs + base, dxs + base)
                                        for i in 0..<inner { dp[i] = s * (gp[i] - mg) - k * (xp[i] - mc) }
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
