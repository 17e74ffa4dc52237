import Foundation
import NetworkIR
import Support

/// Unary activations, applied element by element.
struct UnaryKernel: StepKernel {
    let op: Operator

    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor {
        var x = inputs[0]
        let count = x.count
        let op = self.op
        x.storage.withUnsafeMutableBufferPointer { buffer in
            let p = SendablePointer(base: buffer.baseAddress!)
            parallelFor(count, threads: threads, minimumPerThread: 1 << 15) { range in
                UnaryKernel.apply(op, p.base + range.lowerBound, range.count)
            }
        }
        return x
    }

    static func apply(_ op: Operator, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
        switch op {
        case .relu: for i in 0..<n { p[i] = max(p[i], 0) }
        case .leakyRelu(let alpha): for i in 0..<n { let v = p[i]; p[i] = v < 0 ? v * alpha : v }
        case .clip(let lo, let hi): for i in 0..<n { p[i] = min(max(p[i], lo), hi) }
        case .sigmoid: for i in 0..<n { p[i] = 1 / (1 + Foundation.exp(-p[i])) }
        case .hardSigmoid(let alpha, let beta): for i in 0..<n { p[i] = min(max(alpha * p[i] + beta, 0), 1) }
        case .hardSwish: for i in 0..<n { let v = p[i]; p[i] = v * min(max(v / 6 + 0.5, 0), 1) }
        case .tanh: for i in 0..<n { p[i] = Foundation.tanh(p[i]) }
        case .fakeQuantize(let f): for i in 0..<n { p[i] = f.apply(p[i]) }
        default: break
        }
    }
}

/// Add, Sub, Mul, Div with numpy broadcasting. Axes are coalesced first, so that the common CNN
/// cases — same shape, a per-channel constant, a squeeze-excite scale (N,C,1,1) — run as long
/// contiguous inner loops.
struct BinaryKernel: StepKernel {
    enum Kind: Sendable { case add, sub, mul, div }
    let kind: Kind
    /// Applied after the arithmetic (a fused Relu/Clip).
    var activation: FusedActivation = .none

    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor {
        let a = inputs[0], b = inputs[1]
        let shape: [Int]
        do { shape = try broadcastShapes(a.shape, b.shape) } catch { throw ExecutionError(error.message) }
        let plan = BroadcastPlan(shape: shape, a: a.shape, b: b.shape)
        let kind = self.kind, activation = self.activation
        return Tensor(shape: shape) { out in
            a.storage.withUnsafeBufferPointer { pa in
                b.storage.withUnsafeBufferPointer { pb in
                    let po = SendablePointer(base: out.baseAddress!)
                    let inner = plan.innerCount
                    parallelFor(plan.outerCount, threads: threads, minimumPerThread: max(1, (1 << 15) / max(inner, 1))) { range in
                        for outer in range {
                            let (oa, ob) = plan.offsets(outer)
                            BinaryKernel.loop(kind, pa.baseAddress! + oa, plan.innerStrideA, pb.baseAddress! + ob, plan.innerStrideB,
                                              po.base + outer * inner, inner, activation)
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    static func loop(_ kind: Kind, _ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int,
                     _ o: UnsafeMutablePointer<Float>, _ n: Int, _ act: FusedActivation) {
        func run(_ f: (Float, Float) -> Float) {
            if sa == 1 && sb == 1 {
                for i in 0..<n { o[i] = f(a[i], b[i]) }
            } else if sa == 1 {
                let bv = b[0]
                for i in 0..<n { o[i] = f(a[i], bv) }
            } else if sb == 1 {
                let av = a[0]
                for i in 0..<n { o[i] = f(av, b[i]) }
            } else {
                for i in 0..<n { o[i] = f(a[i * sa], b[i * sb]) }
            }
        }
        switch kind {
        case .add: run(+)
        case .sub: run(-)
        case .mul: run(*)
        case .div: run(/)
        }
        switch act {
        case .none: break
        case .relu: for i in 0..<n { o[i] = max(o[i], 0) }
        case .clip(let lo, let hi): for i in 0..<n { o[i] = min(max(o[i], lo), hi) }
        }
    }
}

/// Index arithmetic for a broadcast binary operation after coalescing adjacent axes.
struct BroadcastPlan {
    var sizes: [Int] = []
    var stridesA: [Int] = []
    var stridesB: [Int] = []
    var innerCount: Int
    var innerStrideA: Int
    var innerStrideB: Int
    var outerCount: Int

    init(shape: [Int], a: [Int], b: [Int]) {
        let sa = broadcastStrides(a, rank: shape.count), sb = broadcastStrides(b, rank: shape.count)
        for i in 0..<shape.count where shape[i] != 1 {
            if let last = sizes.indices.last,
               stridesA[last] == sa[i] * shape[i], stridesB[last] == sb[i] * shape[i] {
                sizes[last] *= shape[i]
                stridesA[last] = sa[i]
                stridesB[last] = sb[i]
            } else {
                sizes.append(shape[i]); stridesA.append(sa[i]); stridesB.append(sb[i])
            }
        }
        if sizes.isEmpty { sizes = [1]; stridesA = [0]; stridesB = [0] }
        innerCount = sizes.last!
        innerStrideA = stridesA.last!
        innerStrideB = stridesB.last!
        sizes.removeLast(); stridesA.removeLast(); stridesB.removeLast()
        outerCount = sizes.reduce(1, *)
    }

    /// Offsets of operand A and B for the outer index `outer` (row-major over the outer axes).
    @inline(__always)
    func offsets(_ outer: Int) -> (Int, Int) {
        var rest = outer, oa = 0, ob = 0
        var k = sizes.count - 1
        while k >= 0 {
            let i = rest % sizes[k]
            rest /= sizes[k]
            oa += i * stridesA[k]
            ob += i * stridesB[k]
            k -= 1
        }
        return (oa, ob)
    }
}
