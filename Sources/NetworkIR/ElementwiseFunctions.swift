import Foundation

/// A function of one activation applied to each element on its own, for the ONNX operators that
/// have no parameter tensor (Elu, Selu, Celu, Softplus, Softsign, Abs, Neg, Exp, Log, Sqrt,
/// Reciprocal, Pow with a scalar exponent, Erf, Gelu, Mish).
///
/// One enum instead of one `Operator` case each: the channel analysis, the pruner and the plan
/// treat them all alike (an element-wise map), and only the formulas differ. Each value is
/// computed in Double and rounded once to Float, so a result is the nearest float to the exact
/// function of the float input; values beyond Float's range become ±infinity exactly as ONNX
/// Runtime's float32 kernels give them (that is the model's own arithmetic, not an overflow of
/// ours).
public enum UnaryFunction: Sendable, Equatable {
    /// x for x > 0, alpha·(eˣ − 1) otherwise.
    case elu(alpha: Float)
    /// gamma·x for x > 0, gamma·alpha·(eˣ − 1) otherwise.
    case selu(alpha: Float, gamma: Float)
    /// max(0, x) + min(0, alpha·(e^(x/alpha) − 1)).
    case celu(alpha: Float)
    /// log(1 + eˣ).
    case softplus
    /// x / (1 + |x|).
    case softsign
    case abs, neg, exp, log, sqrt, reciprocal
    /// xᵖ for a constant scalar exponent (ONNX `Pow` whose exponent has one element).
    case power(Float)
    case erf
    /// x·Φ(x); with `tanhApproximation`, Φ(x) ≈ ½(1 + tanh(√(2/π)(x + 0.044715x³))).
    case gelu(tanhApproximation: Bool)
    /// x·tanh(softplus(x)).
    case mish

    /// Selu's defaults in ONNX (the float32 values of the constants of Klambauer et al.).
    public static let seluAlpha: Float = 1.67326319217681884765625
    public static let seluGamma: Float = 1.05070102214813232421875

    public var onnxName: String {
        switch self {
        case .elu: "Elu"
        case .selu: "Selu"
        case .celu: "Celu"
        case .softplus: "Softplus"
        case .softsign: "Softsign"
        case .abs: "Abs"
        case .neg: "Neg"
        case .exp: "Exp"
        case .log: "Log"
        case .sqrt: "Sqrt"
        case .reciprocal: "Reciprocal"
        case .power: "Pow"
        case .erf: "Erf"
        case .gelu: "Gelu"
        case .mish: "Mish"
        }
    }

    /// f(x), the nearest Float to the value computed in Double.
    @inline(__always)
    public func callAsFunction(_ input: Float) -> Float {
        let x = Double(input)
        switch self {
        case .elu(let alpha): return x > 0 ? input : Float(Double(alpha) * Foundation.expm1(x))
        case .selu(let alpha, let gamma):
            return Float(x > 0 ? Double(gamma) * x : Double(gamma) * Double(alpha) * Foundation.expm1(x))
        case .celu(let alpha):
            let a = Double(alpha)
            return Float(Swift.max(0, x) + Swift.min(0, a * Foundation.expm1(x / a)))
        case .softplus: return Float(Self.softplus(x))
        case .softsign: return Float(x / (1 + Swift.abs(x)))
        case .abs: return Swift.abs(input)
        case .neg: return -input
        case .exp: return Float(Foundation.exp(x))
        case .log: return Float(Foundation.log(x))
        case .sqrt: return Float(x.squareRoot())
        case .reciprocal: return Float(1 / x)
        case .power(let p): return Float(Foundation.pow(x, Double(p)))
        case .erf: return Float(Foundation.erf(x))
        case .gelu(let tanhApproximation): return Float(x * Self.geluGate(x, tanhApproximation: tanhApproximation))
        case .mish: return Float(x * Foundation.tanh(Self.softplus(x)))
        }
    }

    /// f′(x), given x and y = f(x) (several derivatives are cheapest from y). At a kink the
    /// derivative of the branch ONNX takes for x > 0 is used for x > 0 only (Abs′(0) = 0).
    public func derivative(x input: Float, y output: Float) -> Float {
        let x = Double(input), y = Double(output)
        switch self {
        case .elu(let alpha): return x > 0 ? 1 : Float(Double(alpha) * Foundation.exp(x))
        case .selu(let alpha, let gamma): return Float(x > 0 ? Double(gamma) : Double(gamma) * Double(alpha) * Foundation.exp(x))
        case .celu(let alpha): return x > 0 ? 1 : Float(Foundation.exp(x / Double(alpha)))
        case .softplus: return Float(Self.sigmoid(x))
        case .softsign: let d = 1 + Swift.abs(x); return Float(1 / (d * d))
        case .abs: return x > 0 ? 1 : (x < 0 ? -1 : 0)
        case .neg: return -1
        case .exp: return output
        case .log: return Float(1 / x)
        case .sqrt: return Float(0.5 / y)
        case .reciprocal: return Float(-y * y)
        case .power(let p): return p == 0 ? 0 : Float(Double(p) * Foundation.pow(x, Double(p) - 1))
        case .erf: return Float(2 / Double.pi.squareRoot() * Foundation.exp(-x * x))
        case .gelu(false):
            let density = Foundation.exp(-x * x / 2) / (2 * Double.pi).squareRoot()
            return Float(Self.geluGate(x, tanhApproximation: false) + x * density)
        case .gelu(true):
            let k = (2 / Double.pi).squareRoot()
            let t = Foundation.tanh(k * (x + 0.044715 * x * x * x))
            return Float(0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x))
        case .mish:
            let t = Foundation.tanh(Self.softplus(x))
            return Float(t + x * Self.sigmoid(x) * (1 - t * t))
        }
    }

    /// Whether f(0) = 0: a channel zeroed before this function is still zero after it, which is
    /// what the pruner needs to remove a channel through it exactly.
    public var keepsZero: Bool {
        switch self {
        case .elu, .selu, .celu, .softsign, .abs, .neg, .sqrt, .erf, .gelu, .mish: true
        case .power(let p): p > 0
        case .softplus, .exp, .log, .reciprocal: false
        }
    }

    /// log(1 + eˣ) without overflow for large x or loss of precision for very negative x.
    static func softplus(_ x: Double) -> Double {
        x > 0 ? x + Foundation.log1p(Foundation.exp(-x)) : Foundation.log1p(Foundation.exp(x))
    }

    static func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

    /// Φ(x), the standard normal CDF, or its tanh approximation.
    static func geluGate(_ x: Double, tanhApproximation: Bool) -> Double {
        if tanhApproximation {
            return 0.5 * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
        }
        return 0.5 * Foundation.erfc(-x / 2.squareRoot())
    }
}

/// ONNX's variadic element-wise operators: 1…N inputs, numpy broadcasting (opset ≥ 8; before,
/// equal shapes only). Max and Min with a constant operand are how some exporters write clipping.
public enum VariadicKind: String, Sendable, Equatable, CaseIterable {
    case sum = "Sum", max = "Max", min = "Min", mean = "Mean"
}

/// Softmax, LogSoftmax and Hardmax when they are not a plain `Operator.softmax`: the log and
/// arg-max forms, and the pre-opset-13 semantics that coerce the input to 2-D at `axis` (every
/// axis from `axis` on is one row).
public struct SoftmaxFamily: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        case softmax = "Softmax", logSoftmax = "LogSoftmax", hardmax = "Hardmax"
    }

    public var kind: Kind
    /// Non-negative.
    public var axis: Int
    /// Whether the row is every axis from `axis` on (opset < 13) rather than `axis` alone.
    public var coercedTo2D: Bool

    public init(kind: Kind, axis: Int, coercedTo2D: Bool) {
        self.kind = kind
        self.axis = axis
        self.coercedTo2D = coercedTo2D
    }

    /// (outer, row length, inner stride) of the rows for an input of `shape`: element k of a row
    /// at (o, i) is at (o·n + k)·inner + i.
    public func rows(_ shape: [Int]) -> (outer: Int, n: Int, inner: Int) {
        let outer = shape[..<axis].reduce(1, *)
        if coercedTo2D { return (outer, shape[axis...].reduce(1, *), 1) }
        return (outer, shape[axis], shape[(axis + 1)...].reduce(1, *))
    }
}
