/// Builders for the element-wise activations, PRelu, Pow, the variadic Sum/Max/Min/Mean and the
/// Softmax family (with its pre-opset-13 2-D coercion).
extension OperatorBuilder {
    /// The ONNX operators these builders accept; `Importer.supportedOperators` lists them.
    static let elementwiseOperators: [String] = [
        "Abs", "Celu", "Elu", "Erf", "Exp", "Gelu", "Hardmax", "Log", "LogSoftmax", "Max", "Mean", "Min", "Mish", "Neg",
        "PRelu", "Pow", "Reciprocal", "Selu", "Softmax", "Softplus", "Softsign", "Sqrt", "Sum",
    ]

    func buildElementwise() throws(GraphError) -> (Operator, [Int]) {
        switch opType {
        case "PRelu": return try prelu()
        case "Pow": return try power()
        case "Sum", "Max", "Min", "Mean": return try variadic()
        case "Softmax", "LogSoftmax", "Hardmax": return try softmaxFamily()
        default: return (.unary(try unaryFunction()), [try dataInput()])
        }
    }

    /// Input 0, which must be present.
    func dataInput() throws(GraphError) -> Int {
        _ = try rank(0)
        return 0
    }

    func unaryFunction() throws(GraphError) -> UnaryFunction {
        switch opType {
        case "Elu": return .elu(alpha: try attributes.float("alpha") ?? 1)
        case "Selu":
            return .selu(alpha: try attributes.float("alpha") ?? UnaryFunction.seluAlpha,
                         gamma: try attributes.float("gamma") ?? UnaryFunction.seluGamma)
        case "Celu":
            let alpha = try attributes.float("alpha") ?? 1
            guard alpha != 0, alpha.isFinite else { throw GraphError(.attribute, "attribute 'alpha': Celu divides by alpha; got \(alpha)") }
            return .celu(alpha: alpha)
        case "Gelu":
            let approximate = try attributes.string("approximate") ?? "none"
            switch approximate {
            case "none": return .gelu(tanhApproximation: false)
            case "tanh": return .gelu(tanhApproximation: true)
            default: throw GraphError(.attribute, "attribute 'approximate': expected \"none\" or \"tanh\", got \"\(approximate)\"")
            }
        case "Softplus": return .softplus
        case "Softsign": return .softsign
        case "Abs": return .abs
        case "Neg": return .neg
        case "Exp": return .exp
        case "Log": return .log
        case "Sqrt": return .sqrt
        case "Reciprocal": return .reciprocal
        case "Erf": return .erf
        case "Mish": return .mish
        default: throw GraphError(.unsupportedOperator, "internal: \(opType) is not an element-wise function")
        }
    }

    /// PRelu: the slope broadcasts to the data's shape (unidirectional broadcasting, opset ≥ 7;
    /// before, a slope of the data's shape or of one element, which broadcasting also covers).
    /// The slope must be a constant so that a pruned channel can slice it.
    func prelu() throws(GraphError) -> (Operator, [Int]) {
        _ = try rank(0)
        guard inputs.count > 1, inputs[1] != nil else { throw GraphError(.structure, "PRelu needs a slope (input 1)") }
        guard isConstant(1) else { throw GraphError(.structure, "PRelu slope (input 1) must be a constant") }
        return (.prelu, [0, 1])
    }

    /// Pow with a constant exponent: a one-element exponent that does not raise the rank is an
    /// element-wise function; any other constant exponent broadcasts (multidirectionally, opset ≥ 7).
    func power() throws(GraphError) -> (Operator, [Int]) {
        let r = try rank(0)
        guard inputs.count > 1, inputs[1] != nil else { throw GraphError(.structure, "Pow needs an exponent (input 1)") }
        guard let exponent = try constantOperand(1, "Pow exponent") else { throw GraphError(.structure, "Pow needs an exponent (input 1)") }
        guard exponent.elements.allSatisfy({ !$0.isNaN }) else { throw GraphError(.attribute, "Pow exponent contains NaN") }
        if exponent.count == 1 && exponent.shape.count <= r {
            return (.unary(.power(Float(exponent.elements[0]))), [0])
        }
        return (.pow, [0, 1])
    }

    /// Sum/Max/Min/Mean of every present input. Before opset 8 ONNX requires equal shapes.
    func variadic() throws(GraphError) -> (Operator, [Int]) {
        guard let kind = VariadicKind(rawValue: opType) else { throw GraphError(.unsupportedOperator, "internal: \(opType) is not variadic") }
        let present = inputs.indices.filter { inputs[$0] != nil }
        guard !present.isEmpty else { throw GraphError(.structure, "\(opType) needs at least one input") }
        if opset < 8 {
            let shapes = present.map { i in shapeOf(i) }
            guard Set(shapes.map { $0.description }).count == 1 else {
                throw GraphError(.shape, "\(opType) before opset 8 needs inputs of one shape (no broadcasting); got \(shapes)")
            }
        }
        return (.variadic(kind), present)
    }

    /// Softmax, LogSoftmax, Hardmax. From opset 13 the row is `axis` (default −1); before, the
    /// input is coerced to 2-D at `axis` (default 1), so the row is every axis from `axis` on.
    /// Where the two readings agree for this input (every coerced axis but one has size 1) the
    /// plain form is used, so that a legacy Softmax over (N, 1000, 1, 1) is `Operator.softmax`.
    func softmaxFamily() throws(GraphError) -> (Operator, [Int]) {
        let r = try rank(0)
        guard r >= 1 else { throw GraphError(.shape, "\(opType) of a scalar") }
        let raw = try attributes.int("axis") ?? (opset >= 13 ? -1 : 1)
        guard raw >= -r, raw < r else { throw GraphError(.attribute, "attribute 'axis': \(raw) out of range for rank \(r)") }
        var axis = raw < 0 ? raw + r : raw
        var coerced = opset < 13
        if coerced, let single = singleNonUnitAxis(from: axis) {
            axis = single
            coerced = false
        }
        let kind: SoftmaxFamily.Kind = opType == "LogSoftmax" ? .logSoftmax : opType == "Hardmax" ? .hardmax : .softmax
        if kind == .softmax && !coerced { return (.softmax(axis: axis), [0]) }
        return (.softmaxFamily(SoftmaxFamily(kind: kind, axis: axis, coercedTo2D: coerced)), [0])
    }

    /// The one axis from `axis` on that can be larger than 1 in both batch worlds (the last
    /// axis when all are 1), or nil when the coerced row spans several.
    func singleNonUnitAxis(from axis: Int) -> Int? {
        guard case .runtime(_, let s1, let s2)? = inputs[0] else { return nil }
        let candidates = (axis..<s1.count).filter { s1[$0] != 1 || s2[$0] != 1 }
        if candidates.isEmpty { return s1.count - 1 }
        return candidates.count == 1 ? candidates[0] : nil
    }

    /// The shape of input `i` in the batch-1 world.
    func shapeOf(_ i: Int) -> [Int] {
        switch inputs[i] {
        case .runtime(_, let s, _)?: return s
        case .weight(let t, _)?: return t.shape
        case .folded(let a, _)?: return a.shape
        case nil: return []
        }
    }
}

extension Operator {
    /// Output shapes of the operators built in OperatorBuilder+Elementwise.
    func elementwiseOutputShape(_ shapes: [[Int]]) throws(GraphError) -> [Int] {
        let x = shapes[0]
        switch self {
        case .unary:
            return x
        case .prelu:
            guard shapes.count == 2 else { throw GraphError(.structure, "PRelu expects 2 inputs, got \(shapes.count)") }
            guard try broadcastShapes(x, shapes[1]) == x else {
                throw GraphError(.shape, "PRelu slope \(shapes[1]) does not broadcast to the input \(x) (unidirectional broadcasting)")
            }
            return x
        case .pow:
            guard shapes.count == 2 else { throw GraphError(.structure, "Pow expects 2 inputs, got \(shapes.count)") }
            return try broadcastShapes(x, shapes[1])
        case .variadic:
            var out = x
            for s in shapes.dropFirst() { out = try broadcastShapes(out, s) }
            return out
        case .softmaxFamily(let s):
            guard s.axis < x.count else { throw GraphError(.shape, "axis \(s.axis) out of range for rank \(x.count)") }
            return x
        default:
            throw GraphError(.structure, "internal: \(onnxName) has no element-wise shape rule")
        }
    }
}
