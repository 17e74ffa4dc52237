import Foundation
import NetworkIR
import Support

/// An element-wise function (Elu, Exp, Gelu, ...), in place over the whole tensor.
struct UnaryFunctionKernel: StepKernel {
    let function: UnaryFunction

    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor {
        var x = inputs[0]
        let count = x.count
        let f = function
        x.storage.withUnsafeMutableBufferPointer { buffer in
            let p = SendablePointer(base: buffer.baseAddress!)
            parallelFor(count, threads: threads, minimumPerThread: 1 << 13) { range in
                for i in range { p.base[i] = f(p.base[i]) }
            }
        }
        return x
    }
}

/// PRelu and Pow with a broadcast constant exponent: f(a, b) of two operands under numpy
/// broadcasting.
struct BroadcastFunctionKernel: StepKernel {
    enum Function: Sendable {
        case prelu, pow

        @inline(__always)
        func callAsFunction(_ a: Float, _ b: Float) -> Float {
            switch self {
            case .prelu: return a < 0 ? a * b : a
            case .pow: return Float(Foundation.pow(Double(a), Double(b)))
            }
        }
    }
    let function: Function

    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor {
        let f = function
        return try broadcastCombine(inputs[0], inputs[1], threads: threads) { f($0, $1) }
    }
}

/// Sum/Max/Min/Mean of 1…N operands: folded left to right, each step broadcasting.
struct VariadicKernel: StepKernel {
    let kind: VariadicKind

    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor {
        var result = inputs[0]
        for operand in inputs.dropFirst() {
            switch kind {
            case .sum, .mean: result = try broadcastCombine(result, operand, threads: threads, +)
            case .max: result = try broadcastCombine(result, operand, threads: threads) { Swift.max($0, $1) }
            case .min: result = try broadcastCombine(result, operand, threads: threads) { Swift.min($0, $1) }
            }
        }
        if kind == .mean && inputs.count > 1 {
            let n = Float(inputs.count)
            for i in result.storage.indices { result.storage[i] /= n }
        }
        return result
    }
}

/// f(a, b) over the broadcast shape of `a` and `b`, with the axes coalesced as `BinaryKernel`
/// does.
func broadcastCombine(_ a: Tensor, _ b: Tensor, threads: Int,
                      _ f: @escaping @Sendable (Float, Float) -> Float) throws(ExecutionError) -> Tensor {
    let shape: [Int]
    do { shape = try broadcastShapes(a.shape, b.shape) } catch { throw ExecutionError(error.message) }
    let plan = BroadcastPlan(shape: shape, a: a.shape, b: b.shape)
    return Tensor(shape: shape) { out in
        a.storage.withUnsafeBufferPointer { pa in
            b.storage.withUnsafeBufferPointer { pb in
                let po = SendablePointer(base: out.baseAddress!)
                let inner = plan.innerCount, sa = plan.innerStrideA, sb = plan.innerStrideB
                parallelFor(plan.outerCount, threads: threads, minimumPerThread: max(1, (1 << 15) / max(inner, 1))) { range in
                    for outer in range {
                        let (oa, ob) = plan.offsets(outer)
                        let x = pa.baseAddress! + oa, y = pb.baseAddress! + ob, o = po.base + outer * inner
                        for i in 0..<inner { o[i] = f(x[i * sa], y[i * sb]) }
                    }
                }
            }
        }
    }
}

/// Softmax (2-D coerced), LogSoftmax and Hardmax over the rows `SoftmaxFamily.rows` defines.
/// Sums run in Double: a row of the coerced form can be long (C·H·W).
struct SoftmaxFamilyKernel: StepKernel {
    let attributes: SoftmaxFamily

    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor {
        var x = inputs[0]
        let (outer, n, inner) = attributes.rows(x.shape)
        let kind = attributes.kind
        x.storage.withUnsafeMutableBufferPointer { buffer in
            let p = SendablePointer(base: buffer.baseAddress!)
            parallelFor(outer * inner, threads: threads, minimumPerThread: max(1, (1 << 14) / max(n, 1))) { range in
                for row in range {
                    let base = p.base + (row / inner) * n * inner + row % inner
                    SoftmaxFamilyKernel.apply(kind, base, n, inner)
                }
            }
        }
        return x
    }

    static func apply(_ kind: SoftmaxFamily.Kind, _ base: UnsafeMutablePointer<Float>, _ n: Int, _ stride: Int) {
        guard n > 0 else { return }
        // The first maximum, as ONNX's Hardmax takes it.
        var peak = base[0], argmax = 0
        for k in 1..<max(n, 1) where base[k * stride] > peak { peak = base[k * stride]; argmax = k }
        switch kind {
        case .hardmax:
            for k in 0..<n { base[k * stride] = k == argmax ? 1 : 0 }
        case .softmax:
            var sum = 0.0
            for k in 0..<n { let e = Foundation.exp(Double(base[k * stride] - peak)); base[k * stride] = Float(e); sum += e }
            for k in 0..<n { base[k * stride] = Float(Double(base[k * stride]) / sum) }
        case .logSoftmax:
            var sum = 0.0
            for k in 0..<n { sum += Foundation.exp(Double(base[k * stride] - peak)) }
            let shift = Double(peak) + Foundation.log(sum)
            for k in 0..<n { base[k * stride] = Float(Double(base[k * stride]) - shift) }
        }
    }
}

extension PlanBuilder {
    /// The kernel of an operator built in OperatorBuilder+Elementwise.
    func elementwiseKernel(_ node: Node) throws(GraphError) -> StepKernel {
        switch node.op {
        case .unary(let f): return UnaryFunctionKernel(function: f)
        case .prelu: return BroadcastFunctionKernel(function: .prelu)
        case .pow: return BroadcastFunctionKernel(function: .pow)
        case .variadic(let kind): return VariadicKernel(kind: kind)
        case .softmaxFamily(let s): return SoftmaxFamilyKernel(attributes: s)
        default: throw GraphError(.structure, "internal: \(node.op.onnxName) has no element-wise kernel", node: node.name)
        }
    }
}
