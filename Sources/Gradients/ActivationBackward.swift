import Foundation
import NetworkIR

/// Backward rules of the element-wise functions, PRelu, Pow, the variadic Sum/Max/Min/Mean and
/// the Softmax family.
enum ActivationBackward {
    static func backward(_ node: Node, outputGradient g: Tensor, context: BackwardContext) throws(GradientError) -> [Tensor?] {
        let x = try context.value(node.inputs[0])
        switch node.op {
        case .unary(let f):
            let y = try context.value(node.outputs[0])
            var d = g
            for i in 0..<d.count { d.storage[i] *= f.derivative(x: x.storage[i], y: y.storage[i]) }
            return [d]
        case .prelu:
            // ∂/∂x = slope where x < 0, else 1; ∂/∂slope = x where x < 0, else 0.
            let slope = try context.value(node.inputs[1])
            let r = ElementwiseBackward.binary(a: x, b: slope, outputGradient: g) { a, s in a < 0 ? (s, a) : (1, 0) }
            return [r.a, r.b]
        case .pow:
            // The exponent is a constant: only the base takes a gradient.
            let e = try context.value(node.inputs[1])
            let r = ElementwiseBackward.binary(a: x, b: e, outputGradient: g) { a, p in
                (p == 0 ? 0 : Float(Double(p) * Foundation.pow(Double(a), Double(p) - 1)), 0)
            }
            return [r.a, nil]
        case .variadic(let kind):
            let operands = try node.inputs.map { (v: ValueID) throws(GradientError) -> Tensor in try context.value(v) }
            let y = try context.value(node.outputs[0])
            return variadic(kind, operands: operands, output: y, outputGradient: g)
        case .softmaxFamily(let s):
            let y = try context.value(node.outputs[0])
            return [softmaxFamily(s, output: y, outputGradient: g)]
        default:
            throw GradientError("internal: no element-wise backward rule", node: node.name)
        }
    }

    /// Sum: every operand takes g; Mean: g/N; Max/Min: the first operand equal to the output
    /// takes g (PyTorch's rule for a strict maximum; ties go to the first). Each is summed back
    /// over the axes it was broadcast along.
    static func variadic(_ kind: VariadicKind, operands: [Tensor], output y: Tensor, outputGradient g: Tensor) -> [Tensor?] {
        let rank = g.rank
        let strides = operands.map { broadcastStrides($0.shape, rank: rank) }
        var grads = operands.map { [Float](repeating: 0, count: $0.count) }
        let share: Float = kind == .mean ? 1 / Float(operands.count) : 1
        var index = [Int](repeating: 0, count: rank)
        for i in 0..<g.count {
            var chosen = false
            for (k, t) in operands.enumerated() {
                var o = 0
                for a in 0..<rank { o += index[a] * strides[k][a] }
                switch kind {
                case .sum, .mean: grads[k][o] += g.storage[i] * share
                case .max, .min:
                    if !chosen && t.storage[o] == y.storage[i] { grads[k][o] += g.storage[i]; chosen = true }
                }
            }
            var a = rank - 1
            while a >= 0 { index[a] += 1; if index[a] < g.shape[a] { break }; index[a] = 0; a -= 1 }
        }
        return zip(operands, grads).map { Tensor(shape: $0.shape, storage: $1) }
    }

    /// Softmax: y ⊙ (g − Σ g ⊙ y); LogSoftmax: g − eʸ Σ g; Hardmax: 0 (piecewise constant), over
    /// the same rows as the forward pass.
    static func softmaxFamily(_ s: SoftmaxFamily, output y: Tensor, outputGradient g: Tensor) -> Tensor {
        let (outer, n, inner) = s.rows(y.shape)
        var d = g
        for row in 0..<(outer * inner) {
            let base = (row / inner) * n * inner + row % inner
            switch s.kind {
            case .hardmax:
                for k in 0..<n { d.storage[base + k * inner] = 0 }
            case .softmax:
                var dot = 0.0
                for k in 0..<n { dot += Double(g.storage[base + k * inner]) * Double(y.storage[base + k * inner]) }
                for k in 0..<n {
                    let j = base + k * inner
                    d.storage[j] = Float(Double(y.storage[j]) * (Double(g.storage[j]) - dot))
                }
            case .logSoftmax:
                var total = 0.0
                for k in 0..<n { total += Double(g.storage[base + k * inner]) }
                for k in 0..<n {
                    let j = base + k * inner
                    d.storage[j] = Float(Double(g.storage[j]) - Foundation.exp(Double(y.storage[j])) * total)
                }
            }
        }
        return d
    }
}
