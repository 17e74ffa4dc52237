import NetworkIR

/// Conv with whatever the plan fused into it: a following inference BatchNormalization (folded
/// into the weights and bias), a residual Add (second runtime input), and a Relu/Clip.
/// Inputs: [x (NCHW)] or [x, residual (same shape as the output)].
struct ConvolutionKernel: StepKernel {
    let attributes: ConvAttributes
    /// OIHW, BatchNormalization already folded in.
    let weights: Tensor
    let bias: [Float]?
    let activation: FusedActivation
    let backend: ConvolutionBackend

    init(attributes: ConvAttributes, weights: Tensor, bias: [Float]?, activation: FusedActivation, useReference: Bool,
         winograd: WinogradUse) {
        self.attributes = attributes
        self.weights = weights
        self.bias = bias
        self.activation = activation
        self.backend = useReference ? .reference : FastConvolution.make(attributes: attributes, weights: weights, bias: bias,
                                                                                          winograd: winograd)
    }

    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor {
        let x = inputs[0]
        guard x.rank == 4, x.shape[1] == weights.shape[1] * attributes.groups else {
            throw ExecutionError("expected an NCHW input with \(weights.shape[1] * attributes.groups) channels, got \(x.shape)")
        }
        let residual = inputs.count > 1 ? inputs[1] : nil
        switch backend {
        case .fast(let fast):
            return try fast.run(x, residual: residual, activation: activation, threads: threads)
        case .reference:
            var y = ReferenceConvolution.run(input: x, weights: weights, bias: bias, attributes: attributes, threads: threads)
            if let residual {
                guard residual.shape == y.shape else { throw ExecutionError("residual \(residual.shape) does not match \(y.shape)") }
                for i in 0..<y.count { y.storage[i] += residual.storage[i] }
            }
            if activation != .none { for i in 0..<y.count { y.storage[i] = activation.apply(y.storage[i]) } }
            return y
        }
    }
}

enum ConvolutionBackend: Sendable {
    case reference
    case fast(FastConvolution)
}

/// A dense layer with a constant weight: Gemm(x, W, b) with transA = 0, or MatMul(x, W) on a 2-D
/// x, with any Relu/Clip fused. Weight stored as [out, in] (row = output feature).
struct DenseKernel: StepKernel {
    /// [out × in].
    let weights: Tensor
    /// One per output feature, alpha and beta already applied.
    let bias: [Float]?
    let activation: FusedActivation
    let backend: DenseBackend

    init(weights: Tensor, bias: [Float]?, activation: FusedActivation, useReference: Bool) {
        self.weights = weights
        self.bias = bias
        self.activation = activation
        self.backend = useReference ? .reference : FastDense.make(weights: weights, bias: bias)
    }

    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor {
        let x = inputs[0]
        let (out, k) = (weights.shape[0], weights.shape[1])
        guard x.rank == 2, x.shape[1] == k else { throw ExecutionError("expected input (N, \(k)), got \(x.shape)") }
        if case .fast(let fast) = backend { return try fast.run(x, activation: activation, threads: threads) }
        let m = x.shape[0]
        var y = Tensor(shape: [m, out]) { o in
            x.storage.withUnsafeBufferPointer { px in
                weights.storage.withUnsafeBufferPointer { pw in
                    ReferenceMatrixProduct.multiply(px.baseAddress!, rowStrideA: k, colStrideA: 1, pw.baseAddress!, rowStrideB: 1, colStrideB: k,
                                                    o.baseAddress!, m: m, n: out, k: k)
                }
            }
        }
        for r in 0..<m {
            for c in 0..<out {
                y.storage[r * out + c] = activation.apply(y.storage[r * out + c] + (bias?[c] ?? 0))
            }
        }
        return y
    }
}

enum DenseBackend: Sendable {
    case reference
    case fast(FastDense)
}
