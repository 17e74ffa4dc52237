import NetworkIR

/// The Linalg-backed convolution. Returns `.reference` until the fast path supports a geometry.
struct FastConvolution: Sendable {
    static func make(attributes: ConvAttributes, weights: Tensor, bias: [Float]?) -> ConvolutionBackend { .reference }
    func run(_ x: Tensor, residual: Tensor?, activation: FusedActivation, threads: Int) throws(ExecutionError) -> Tensor { x }
}

/// The Linalg-backed dense layer.
struct FastDense: Sendable {
    static func make(weights: Tensor, bias: [Float]?) -> DenseBackend { .reference }
    func run(_ x: Tensor, activation: FusedActivation, threads: Int) throws(ExecutionError) -> Tensor { x }
}
