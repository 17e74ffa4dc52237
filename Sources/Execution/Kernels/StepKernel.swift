import NetworkIR

/// One executable step: a node, or a chain of nodes fused into one pass over memory.
/// Inputs are the step's runtime operands in order; constants were bound at plan time.
protocol StepKernel: Sendable {
    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor
}

/// The activation that a producer can apply on its output before writing it.
enum FusedActivation: Sendable, Equatable {
    case none
    case relu
    case clip(Float, Float)

    init?(_ op: Operator) {
        switch op {
        case .relu: self = .relu
        case .clip(let lo, let hi): self = .clip(lo, hi)
        default: return nil
        }
    }

    @inline(__always)
    func apply(_ x: Float) -> Float {
        switch self {
        case .none: return x
        case .relu: return max(x, 0)
        case .clip(let lo, let hi): return min(max(x, lo), hi)
        }
    }
}
