import NetworkIR
import Support

/// Backward rules of the activations, the broadcasting binary operators and Softmax.
enum ElementwiseBackward {
    /// Elements per thread below which an elementwise backward loop stays on one thread.
    static let elementsPerThread = 1 << 16

    /// dx = g · f'(x). Kinks follow PyTorch: Relu passes where x > 0; Clip (ReLU6, hardtanh)
    /// strictly inside its bounds; HardSwish's slope is x/3 + 1/2 on [-3, 3]. Relu is written
    /// into a fresh tensor, split over `threads` (each element by itself, so any split gives the
    /// same bits).
    static func unary(_ op: Operator, input x: Tensor, output y: Tensor, outputGradient g: Tensor, threads: Int = 1) -> Tensor {
        if case .relu = op { return relu(input: x, outputGradient: g, threads: threads) }
        var d = g
        let n = d.count
        d.storage.withUnsafeMutableBufferPointer { dp in
            x.storage.withUnsafeBufferPointer { xp in
                y.storage.withUnsafeBufferPointer { yp in
                    switch op {
                    case .relu: for i in 0..<n where !(xp[i] > 0) { dp[i] = 0 }
                    case .leakyRelu(let alpha): for i in 0..<n where !(xp[i] > 0) { dp[i] *= alpha }
                    case .clip(let lo, let hi): for i in 0..<n where !(xp[i] > lo && xp[i] < hi) { dp[i] = 0 }
                    case .sigmoid: for i in 0..<n { dp[i] *= yp[i] * (1 - yp[i]) }
                    case .hardSigmoid(let alpha, let beta):
                        for i in 0..<n { let t = alpha * xp[i] + beta; dp[i] = t > 0 && t < 1 ? dp[i] * alpha : 0 }
                    case .hardSwish:
                        for i in 0..<n {
                            let v = xp[i]
                            dp[i] = v < -3 ? 0 : (v <= 3 ? dp[i] * (v / 3 + 0.5) : dp[i])
                        }
                    case .tanh: for i in 0..<n { dp[i] *= 1 - yp[i] * yp[i] }
                    case .fakeQuantize(let f): for i in 0..<n where !f.passesGradient(xp[i]) { dp[i] = 0 }
                    default: break
                    }
                }
            }
        }
        return d
    }

    /// dx = g where x > 0, else 0 (a NaN input passes no gradient).
    static func relu(input x: Tensor, outputGradient g: Tensor, threads: Int) -> Tensor {
        elementwise(x, g, threads: threads) { xs, gs, ds, range in
            // Eight lanes at a time with a mask (a per-element branch mispredicts on about half
            // of the elements), then the tail.
            var i = range.lowerBound
            while i + 8 <= range.upperBound {
                let xv = UnsafeRawPointer(xs + i).loadUnaligned(as: SIMD8<Float>.self)
                let gv = UnsafeRawPointer(gs + i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(ds + i).storeBytes(of: SIMD8<Float>().replacing(with: gv, where: xv .> 0), as: SIMD8<Float>.self)
                i += 8
            }
            while i < range.upperBound { ds[i] = xs[i] > 0 ? gs[i] : 0; i += 1 }
        }
    }

    /// A fresh tensor shaped like `b` from two equal-sized tensors, `body` run on disjoint index
    /// ranges split over `threads` (each element by itself, so any split gives the same bits).
    static func elementwise(_ a: Tensor, _ b: Tensor, threads: Int,
                            _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Range<Int>) -> Void) -> Tensor {
        Tensor(shape: b.shape) { out in
            a.storage.withUnsafeBufferPointer { ap in
                b.storage.withUnsafeBufferPointer { bp in
                    let (xs, ys, os) = (ap.baseAddress!, bp.baseAddress!, out.baseAddress!)
                    parallelFor(out.count, threads: threads, minimumPerThread: elementsPerThread) { range in body(xs, ys, os, range) }
                }
            }
        }
    }

    /// Gradients of both operands, each summed back over the axes it was broadcast along. An Add
    /// of two operands shaped like its output passes g to both unchanged (shared storage).
    static func binary(_ op: Operator, a: Tensor, b: Tensor, outputGradient g: Tensor) -> (a: Tensor, b: Tensor) {
        if case .add = op, a.shape == g.shape, b.shape == g.shape { return (g, g) }
        return binary(a: a, b: b, outputGradient: g) { partials(op, $0, $1) }
    }

    /// a + b elementwise (equal shapes), split over `threads`.
    static func sum(_ a: Tensor, _ b: Tensor, threads: Int) -> Tensor {
        elementwise(a, b, threads: threads) { xs, ys, os, range in for i in range { os[i] = xs[i] + ys[i] } }
    }

    /// The same for any f(a, b) given its partial derivatives (∂f/∂a, ∂f/∂b) at (a, b).
    static func binary(a: Tensor, b: Tensor, outputGradient g: Tensor, partials: (Float, Float) -> (Float, Float)) -> (a: Tensor, b: Tensor) {
        let shape = g.shape
        let rank = shape.count
        let sa = broadcastStrides(a.shape, rank: rank), sb = broadcastStrides(b.shape, rank: rank)
        var da = [Float](repeating: 0, count: a.count), db = [Float](repeating: 0, count: b.count)
        if a.shape == shape && b.shape == shape {
            for i in 0..<g.count {
                let (u, v) = partials(a.storage[i], b.storage[i])
                da[i] = g.storage[i] * u
                db[i] = g.storage[i] * v
            }
        } else {
            var index = [Int](repeating: 0, count: rank)
            for i in 0..<g.count {
                var oa = 0, ob = 0
                for k in 0..<rank { oa += index[k] * sa[k]; ob += index[k] * sb[k] }
                let (u, v) = partials(a.storage[oa], b.storage[ob])
                da[oa] += g.storage[i] * u
                db[ob] += g.storage[i] * v
                var k = rank - 1
                while k >= 0 { index[k] += 1; if index[k] < shape[k] { break }; index[k] = 0; k -= 1 }
            }
        }
        return (Tensor(shape: a.shape, storage: da), Tensor(shape: b.shape, storage: db))
    }

    /// `g` summed over the axes along which a tensor of `shape` was broadcast to `g.shape`.
    static func sum(_ g: Tensor, toShape shape: [Int]) -> Tensor {
        if shape == g.shape { return g }
        let rank = g.rank
        let strides = broadcastStrides(shape, rank: rank)
        var out = [Float](repeating: 0, count: shape.reduce(1, *))
        var index = [Int](repeating: 0, count: rank)
        for i in 0..<g.count {
            var o = 0
            for k in 0..<rank { o += index[k] * strides[k] }
            out[o] += g.storage[i]
            var k = rank - 1
            while k >= 0 { index[k] += 1; if index[k] < g.shape[k] { break }; index[k] = 0; k -= 1 }
        }
        return Tensor(shape: shape, storage: out)
    }

    /// (∂/∂a, ∂/∂b) of a ∘ b.
    @inline(__always)
    static func partials(_ op: Operator, _ a: Float, _ b: Float) -> (Float, Float) {
        switch op {
        case .add: return (1, 1)
        case .sub: return (1, -1)
        case .mul: return (b, a)
        default: return (1 / b, -a / (b * b))
        }
    }

    /// dx = y ⊙ (g − Σ_axis g ⊙ y).
    static func softmax(output y: Tensor, outputGradient g: Tensor, axis: Int) -> Tensor {
        let n = y.shape[axis]
        let inner = y.shape[(axis + 1)...].reduce(1, *)
        let outer = y.shape[..<axis].reduce(1, *)
        var d = g
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * n * inner + i
                var dot: Float = 0
                for k in 0..<n { dot += g.storage[base + k * inner] * y.storage[base + k * inner] }
                for k in 0..<n { d.storage[base + k * inner] = y.storage[base + k * inner] * (g.storage[base + k * inner] - dot) }
            }
        }
        return d
    }
}
