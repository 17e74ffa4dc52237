import Foundation
import NetworkIR
import Support

/// A per-channel affine map y = x·scale[c] + shift[c] on (N, C, ...) tensors, optionally followed
/// by an activation: inference BatchNormalization after its constants are folded.
struct ChannelAffineKernel: StepKernel {
    let scale: [Float]
    let shift: [Float]
    var activation: FusedActivation = .none

    init(scale: [Float], shift: [Float]) {
        self.scale = scale
        self.shift = shift
    }

    /// BatchNormalization's inference form: scale = γ/√(σ²+ε), shift = β − μ·scale.
    init(gamma: [Float], beta: [Float], mean: [Float], variance: [Float], epsilon: Float) {
        var scale = [Float](), shift = [Float]()
        for c in gamma.indices {
            let s = gamma[c] / (variance[c] + epsilon).squareRoot()
            scale.append(s)
            shift.append(beta[c] - mean[c] * s)
        }
        self.scale = scale
        self.shift = shift
    }

    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor {
        var x = inputs[0]
        let channels = x.shape[1]
        guard channels == scale.count else { throw ExecutionError("expected \(scale.count) channels, got \(channels)") }
        let inner = x.shape[2...].reduce(1, *)
        let planes = x.count / max(inner, 1)
        let scale = self.scale, shift = self.shift, activation = self.activation
        x.storage.withUnsafeMutableBufferPointer { buffer in
            let p = SendablePointer(base: buffer.baseAddress!)
            parallelFor(planes, threads: threads, minimumPerThread: max(1, (1 << 15) / max(inner, 1))) { range in
                for plane in range {
                    let c = plane % channels
                    let s = scale[c], t = shift[c]
                    let row = p.base + plane * inner
                    switch activation {
                    case .none: for i in 0..<inner { row[i] = row[i] * s + t }
                    case .relu: for i in 0..<inner { row[i] = max(row[i] * s + t, 0) }
                    case .clip(let lo, let hi): for i in 0..<inner { row[i] = min(max(row[i] * s + t, lo), hi) }
                    }
                }
            }
        }
        return x
    }
}

/// Softmax along one axis, computed stably (max subtracted) in float32.
struct SoftmaxKernel: StepKernel {
    let axis: Int
    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor {
        var x = inputs[0]
        let n = x.shape[axis]
        let inner = x.shape[(axis + 1)...].reduce(1, *)
        let outer = x.shape[..<axis].reduce(1, *)
        x.storage.withUnsafeMutableBufferPointer { buffer in
            let p = buffer.baseAddress!
            for o in 0..<outer {
                for i in 0..<inner {
                    let base = p + o * n * inner + i
                    var peak = -Float.infinity
                    for k in 0..<n { peak = max(peak, base[k * inner]) }
                    var sum: Float = 0
                    for k in 0..<n { let e = Foundation.exp(base[k * inner] - peak); base[k * inner] = e; sum += e }
                    for k in 0..<n { base[k * inner] /= sum }
                }
            }
        }
        return x
    }
}
