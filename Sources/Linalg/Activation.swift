import CKernels

/// The elementwise function applied last in every fused epilogue.
public enum Activation: Sendable, Equatable {
    case none
    /// max(x, 0).
    case relu
    /// min(max(x, min), max); ReLU6 is `.clip(min: 0, max: 6)`.
    case clip(min: Float, max: Float)
}

/// Where a bias vector is added: the ONNX Conv bias is per output channel (per row of the
/// convolution's GEMM), the Gemm/Linear bias per output feature (per column).
public enum Bias {
    case none
    /// One value per row of C (length m).
    case perRow(UnsafePointer<Float>)
    /// One value per column of C (length n).
    case perColumn(UnsafePointer<Float>)
}

/// The work fused into a GEMM's store: `activation(acc + bias + residual)`, in that order.
/// `residual`, when given, has C's shape and layout (it may be C's own storage).
public struct Epilogue {
    public var bias: Bias
    public var residual: UnsafePointer<Float>?
    public var activation: Activation

    public init(bias: Bias = .none, residual: UnsafePointer<Float>? = nil, activation: Activation = .none) {
        self.bias = bias
        self.residual = residual
        self.activation = activation
    }

    var cValue: ck_epilogue {
        var e = ck_epilogue()
        switch bias {
        case .none: e.bias_kind = CK_BIAS_NONE
        case let .perRow(p): e.bias_kind = CK_BIAS_PER_ROW; e.bias = p
        case let .perColumn(p): e.bias_kind = CK_BIAS_PER_COLUMN; e.bias = p
        }
        e.residual = residual
        switch activation {
        case .none: e.act = CK_ACT_NONE
        case .relu: e.act = CK_ACT_CLIP; e.lo = 0; e.hi = .infinity
        case let .clip(lo, hi): e.act = CK_ACT_CLIP; e.lo = lo; e.hi = hi
        }
        return e
    }
}
