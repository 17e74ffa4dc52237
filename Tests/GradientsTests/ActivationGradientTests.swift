import Gradients
import NetworkIR
import XCTest

/// Finite-difference checks of the backward rules in ActivationBackward: every element-wise
/// function, PRelu (input and slope), Pow (base), Sum/Max/Min/Mean, and the Softmax family.
extension OperatorGradientTests {
    func testElementwiseFunctions() throws {
        let smooth: [UnaryFunction] = [.elu(alpha: 0.7), .selu(alpha: UnaryFunction.seluAlpha, gamma: UnaryFunction.seluGamma),
                                       .celu(alpha: 0.6), .softplus, .softsign, .neg, .exp, .erf,
                                       .gelu(tanhApproximation: false), .gelu(tanhApproximation: true), .mish]
        for f in smooth {
            // Values kept 0.035 from the kink at 0 that Elu/Selu/Celu/Softsign have in their second derivative.
            try single(.unary(f), input: [2, 3, 4, 4], x: values.separated([2, 3, 4, 4], spacing: 0.07, offset: 0.035))
        }
        try single(.unary(.abs), input: [2, 3, 4, 4], x: values.separated([2, 3, 4, 4], spacing: 0.07, offset: 0.035))
        for f: UnaryFunction in [.log, .sqrt, .reciprocal, .power(0.5), .power(3), .power(-1.5)] {
            try single(.unary(f), input: [2, 3, 4], x: values.tensor([2, 3, 4], 0.5, 2.5))
        }
    }

    func testPReluInputAndSlope() throws {
        for slope in [[3, 1, 1], [1], [3, 4, 4]] {
            try single(.prelu, input: [2, 3, 4, 4], constants: [values.tensor(slope, -0.5, 0.5)],
                       x: values.separated([2, 3, 4, 4], spacing: 0.07, offset: 0.035))
        }
    }

    func testPowWithBroadcastExponent() throws {
        let exponent = Tensor(shape: [3, 1, 1], storage: [0.5, 2, 3])
        try single(.pow, input: [2, 3, 4, 4], constants: [exponent], x: values.tensor([2, 3, 4, 4], 0.5, 2),
                   skip: { _ in [1] })
    }

    func testVariadicOperators() throws {
        for kind in VariadicKind.allCases {
            // x with a broadcast constant and a second use of x through Neg: gradients add. The
            // constant sits on the grid of multiples of 0.07 that x keeps 0.035 away from, so that
            // no Max/Min choice flips within the finite-difference step.
            var b = GraphBuilder(inputShape: [2, 3, 4, 4])
            let c = b.constant(Tensor(shape: [3, 1, 1], storage: [-0.14, 0.07, 0.21]))
            let negated = b.node(.unary(.neg), [b.input])
            let out = b.node(.variadic(kind), [b.input, c, negated])
            try FiniteDifference.check(b.graph(output: out), input: values.separated([2, 3, 4, 4], spacing: 0.07, offset: 0.035))
        }
        try single(.variadic(.sum), input: [2, 3])
    }

    func testSoftmaxFamily() throws {
        for kind: SoftmaxFamily.Kind in [.softmax, .logSoftmax] {
            for (axis, coerced) in [(1, true), (2, true), (1, false), (3, false)] {
                try single(.softmaxFamily(SoftmaxFamily(kind: kind, axis: axis, coercedTo2D: coerced)), input: [2, 3, 2, 2],
                           x: values.tensor([2, 3, 2, 2], -2, 2))
            }
        }
        // Hardmax is piecewise constant: its gradient is zero wherever the arg-max does not tie.
        try single(.softmaxFamily(SoftmaxFamily(kind: .hardmax, axis: 1, coercedTo2D: true)), input: [2, 3, 2, 2],
                   x: values.separated([2, 3, 2, 2], spacing: 0.2, offset: 0.1))
    }
}
