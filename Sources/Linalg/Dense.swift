import CKernels

/// A fully connected layer y[N×Out] = x[N×K] · Wᵀ + b with the weights packed once.
///
/// The corresponding ONNX operators are `Gemm` with transB = 1 (weights [Out×K]) and `MatMul`
/// with a constant right operand (weights [K×Out]); the bias is per output feature.
public final class Dense: @unchecked Sendable {
    /// How the weight array is laid out.
    public enum WeightLayout: Sendable {
        /// [outputFeatures × inputFeatures] (ONNX Gemm with transB = 1, PyTorch Linear).
        case outputByInput
        /// [inputFeatures × outputFeatures] (ONNX MatMul's constant B).
        case inputByOutput
    }

    public let inputFeatures: Int
    public let outputFeatures: Int
    private let packed: PackedMatrix
    private let bias: [Float]?

    /// - Throws: `LinalgError` when a feature count is below 1 or the weight or bias count is wrong.
    public init(weights: [Float], layout: WeightLayout, inputFeatures: Int, outputFeatures: Int,
                bias: [Float]?, isa: KernelISA = .selected) throws {
        guard inputFeatures >= 1, outputFeatures >= 1 else {
            throw LinalgError("dense: expected feature counts >= 1, got in \(inputFeatures) out \(outputFeatures)")
        }
        let count = try Checked.product(inputFeatures, outputFeatures, what: "dense weights")
        guard weights.count == count else {
            throw LinalgError("dense weights: expected \(count) values, got \(weights.count)")
        }
        if let bias, bias.count != outputFeatures {
            throw LinalgError("dense bias: expected \(outputFeatures) values, got \(bias.count)")
        }
        self.inputFeatures = inputFeatures
        self.outputFeatures = outputFeatures
        self.bias = bias
        // B = Wᵀ as [K × Out]: element (k, o).
        let (rowStride, columnStride) = layout == .outputByInput ? (1, inputFeatures) : (outputFeatures, 1)
        packed = try weights.withUnsafeBufferPointer {
            try PackedMatrix(role: .right, rows: inputFeatures, columns: outputFeatures, source: $0,
                             rowStride: rowStride, columnStride: columnStride, isa: isa)
        }
    }

    /// The kernel variant the packed weights are laid out for.
    public var isa: KernelISA { packed.isa }

    /// - Parameters:
    ///   - input: batch × inputFeatures values, row-major.
    ///   - output: batch × outputFeatures values, row-major.
    ///   - residual: nil or a tensor of the output's shape added before the activation.
    /// - Throws: `LinalgError` when batch is negative or sizes overflow.
    public func run(input: UnsafePointer<Float>, batch: Int, output: UnsafeMutablePointer<Float>,
                    residual: UnsafePointer<Float>?, activation: Activation, threads: Int) throws {
        guard batch >= 0 else { throw LinalgError("dense run: expected batch >= 0, got \(batch)") }
        try bias.withUnsafeBufferPointer(fallback: ()) { biasPointer in
            let epilogue = Epilogue(bias: biasPointer.map { .perColumn($0) } ?? .none, residual: residual,
                                    activation: activation)
            try GEMM.multiply(m: batch, a: input, packed: packed, c: output, epilogue: epilogue, threads: threads)
        }
    }
}
