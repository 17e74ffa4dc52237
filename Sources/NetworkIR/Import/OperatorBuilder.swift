/// Builds one `Operator` from an ONNX node: one small function per operator, reading attributes
/// and folding shape-like constant operands into them.
struct OperatorBuilder {
    let opType: String
    let attributes: AttributeReader
    let inputs: [KnownValue?]
    let opset: Int

    /// The operator and the indices of the ONNX inputs that stay operands of the node.
    func build() throws(GraphError) -> (Operator, [Int]) {
        switch opType {
        case "Conv": return try conv()
        case "BatchNormalization":
            if try attributes.int("training_mode") == 1 { throw GraphError(.attribute, "BatchNormalization in training mode is not supported") }
            for i in 1...4 where !isConstant(i) { throw GraphError(.structure, "BatchNormalization input \(i) must be a constant") }
            try checkLegacyBatchNormalization()
            return (.batchNormalization(epsilon: try attributes.float("epsilon") ?? 1e-5), [0, 1, 2, 3, 4])
        case "Relu": return (.relu, [0])
        case "Sigmoid": return (.sigmoid, [0])
        case "Tanh": return (.tanh, [0])
        case "HardSwish": return (.hardSwish, [0])
        case "LeakyRelu": return (.leakyRelu(alpha: try attributes.float("alpha") ?? 0.01), [0])
        case "HardSigmoid":
            return (.hardSigmoid(alpha: try attributes.float("alpha") ?? 0.2, beta: try attributes.float("beta") ?? 0.5), [0])
        case "Clip": return try clip()
        case "Add": return (.add, [0, 1])
        case "Sub": return (.sub, [0, 1])
        case "Mul": return (.mul, [0, 1])
        case "Div": return (.div, [0, 1])
        case "MaxPool", "AveragePool": return try pool()
        case "GlobalAveragePool": return (.globalAveragePool, [0])
        case "ReduceMean": return try reduceMean()
        case "Flatten":
            var axis = try attributes.int("axis") ?? 1
            if axis < 0 { axis += try rank(0) }
            guard axis >= 0, axis <= (try rank(0)) else { throw GraphError(.attribute, "Flatten axis \(axis) out of range") }
            return (.flatten(axis: axis), [0])
        case "Reshape": return try reshape()
        case "Transpose":
            let r = try rank(0)
            let perm = try attributes.ints("perm") ?? Array((0..<r).reversed())
            guard perm.count == r, Set(perm) == Set(0..<r) else { throw GraphError(.attribute, "attribute 'perm': \(perm) is not a permutation of \(r) axes") }
            return (.transpose(permutation: perm), [0])
        case "Squeeze":
            let r = try rank(0)
            var axes = try axesOperand(inputIndex: 1, sinceOpset: 13) ?? []
            axes = try normalise(axes, rank: r)
            if axes.isEmpty, case .runtime(_, let s1, _)? = inputs[0] {
                axes = s1.enumerated().filter { $0.element == 1 && $0.offset != 0 }.map(\.offset)
            }
            return (.squeeze(axes: axes.sorted()), [0])
        case "Unsqueeze":
            let axes = try axesOperand(inputIndex: 1, sinceOpset: 13) ?? []
            guard !axes.isEmpty else { throw GraphError(.attribute, "Unsqueeze needs axes") }
            return (.unsqueeze(axes: try normalise(axes, rank: try rank(0) + axes.count).sorted()), [0])
        case "Concat":
            var axis = try attributes.int("axis") ?? 1
            if axis < 0 { axis += try rank(0) }
            return (.concat(axis: axis), Array(inputs.indices.filter { inputs[$0] != nil }))
        case "Pad": return try pad()
        case "Gemm":
            let op = Operator.gemm(alpha: try attributes.float("alpha") ?? 1, beta: try attributes.float("beta") ?? 1,
                                   transA: (try attributes.int("transA") ?? 0) != 0, transB: (try attributes.int("transB") ?? 0) != 0)
            return (op, inputs.count > 2 && inputs[2] != nil ? [0, 1, 2] : [0, 1])
        case "MatMul": return (.matMul, [0, 1])
        case "Slice": return try slice()
        case let name where Self.elementwiseOperators.contains(name): return try buildElementwise()
        case "LRN": return try lrn()
        case "InstanceNormalization": return try instanceNormalization()
        case "Resize", "Upsample": return try resize()
        case "ConvTranspose": return try convTranspose()
        case "ReduceSum", "ReduceMax": return try reduceSumOrMax()
        case "Expand": return try expand()
        case "Tile": return try tile()
        case "Gather": return try gather()
        case "Where": return (.whereSelect, [0, 1, 2])
        case "Equal", "Less", "Greater": return (.compare(ComparisonKind(rawValue: opType) ?? .equal), [0, 1])
        default:
            throw GraphError(.unsupportedOperator, "operator \(opType) is not supported; supported: \(Importer.supportedOperators.joined(separator: ", "))")
        }
    }

    func isConstant(_ i: Int) -> Bool {
        guard i < inputs.count, let k = inputs[i] else { return false }
        if case .runtime = k { return false }
        return true
    }

    func rank(_ i: Int) throws(GraphError) -> Int {
        guard i < inputs.count, let k = inputs[i] else { throw GraphError(.structure, "missing input \(i)") }
        switch k {
        case .runtime(_, let s, _): return s.count
        case .weight(let t, _): return t.shape.count
        case .folded(let a, _): return a.shape.count
        }
    }

    /// A constant operand that must not depend on the batch size.
    func constantOperand(_ i: Int, _ what: String) throws(GraphError) -> ConstantValue? {
        guard i < inputs.count, let k = inputs[i] else { return nil }
        switch k {
        case .runtime: throw GraphError(.structure, "\(what) (input \(i)) must be a constant")
        case .weight(let t, _): return ConstantValue(tensor: t)
        case .folded(let a, let b):
            guard a == b else { throw GraphError(.structure, "\(what) (input \(i)) depends on the batch size") }
            return a
        }
    }

    func axesOperand(inputIndex: Int, sinceOpset: Int) throws(GraphError) -> [Int]? {
        if opset >= sinceOpset { return try constantOperand(inputIndex, "axes")?.integers("axes") }
        return try attributes.ints("axes")
    }

    func normalise(_ axes: [Int], rank: Int) throws(GraphError) -> [Int] {
        var result = [Int]()
        for a in axes {
            let n = a < 0 ? a + rank : a
            guard n >= 0, n < rank else { throw GraphError(.attribute, "axis \(a) out of range for rank \(rank)") }
            result.append(n)
        }
        guard Set(result).count == result.count else { throw GraphError(.attribute, "repeated axes \(axes)") }
        return result
    }

    func spatial(_ name: String, default value: Int) throws(GraphError) -> [Int] {
        guard let v = try attributes.ints(name) else { return [value, value] }
        guard v.count == 2 else { throw GraphError(.attribute, "attribute '\(name)': expected 2 values, got \(v.count)") }
        guard v.allSatisfy({ $0 >= (name == "pads" ? 0 : 1) }) else { throw GraphError(.attribute, "attribute '\(name)': invalid values \(v)") }
        return v
    }

    func padsAndAutoPad() throws(GraphError) -> ([Int], AutoPad) {
        let raw = try attributes.string("auto_pad") ?? "NOTSET"
        guard let autoPad = AutoPad(rawValue: raw) else { throw GraphError(.attribute, "attribute 'auto_pad': unknown value '\(raw)'") }
        let pads = try attributes.ints("pads") ?? [0, 0, 0, 0]
        guard pads.count == 4, pads.allSatisfy({ $0 >= 0 && $0 < 1 << 16 }) else {
            throw GraphError(.attribute, "attribute 'pads': expected 4 non-negative values, got \(pads)")
        }
        return (pads, autoPad)
    }

    func conv() throws(GraphError) -> (Operator, [Int]) {
        guard isConstant(1), case .weight(let w, _)? = inputs[1] ?? nil else {
            throw GraphError(.structure, "Conv weight must be a float constant")
        }
        guard w.shape.count == 4 else { throw GraphError(.attribute, "only 2-D convolution is supported; weight shape \(w.shape)") }
        let kernel = try attributes.ints("kernel_shape") ?? [w.shape[2], w.shape[3]]
        guard kernel == [w.shape[2], w.shape[3]] else { throw GraphError(.attribute, "attribute 'kernel_shape': \(kernel) does not match weight \(w.shape)") }
        let (pads, autoPad) = try padsAndAutoPad()
        let group = try attributes.int("group") ?? 1
        guard group >= 1 else { throw GraphError(.attribute, "attribute 'group': expected ≥ 1, got \(group)") }
        if inputs.count > 2, inputs[2] != nil, !isConstant(2) { throw GraphError(.structure, "Conv bias must be a constant") }
        let a = ConvAttributes(kernel: kernel, strides: try spatial("strides", default: 1), dilations: try spatial("dilations", default: 1),
                               pads: pads, autoPad: autoPad, groups: group)
        return (.conv(a), inputs.count > 2 && inputs[2] != nil ? [0, 1, 2] : [0, 1])
    }

    func clip() throws(GraphError) -> (Operator, [Int]) {
        var lo = -Float.infinity, hi = Float.infinity
        if opset < 11 {
            lo = try attributes.float("min") ?? lo
            hi = try attributes.float("max") ?? hi
        } else {
            if let c = try constantOperand(1, "min") { lo = Float(try c.scalar("min")) }
            if let c = try constantOperand(2, "max") { hi = Float(try c.scalar("max")) }
        }
        return (.clip(min: lo, max: hi), [0])
    }

    func pool() throws(GraphError) -> (Operator, [Int]) {
        guard try rank(0) == 4 else { throw GraphError(.attribute, "only 2-D pooling is supported") }
        guard let kernel = try attributes.ints("kernel_shape"), kernel.count == 2, kernel.allSatisfy({ $0 >= 1 }) else {
            throw GraphError(.attribute, "attribute 'kernel_shape': expected 2 positive values")
        }
        let (pads, autoPad) = try padsAndAutoPad()
        let dilations = opType == "MaxPool" ? try spatial("dilations", default: 1) : [1, 1]
        let a = PoolAttributes(kernel: kernel, strides: try spatial("strides", default: 1), dilations: dilations, pads: pads,
                               autoPad: autoPad, ceilMode: (try attributes.int("ceil_mode") ?? 0) != 0)
        if opType == "MaxPool" {
            if (try attributes.int("storage_order") ?? 0) != 0 { throw GraphError(.attribute, "MaxPool storage_order 1 is not supported") }
            return (.maxPool(a), [0])
        }
        return (.averagePool(a, countIncludePad: (try attributes.int("count_include_pad") ?? 0) != 0), [0])
    }

    func reduceMean() throws(GraphError) -> (Operator, [Int]) {
        let r = try rank(0)
        let keep = (try attributes.int("keepdims") ?? 1) != 0
        var axes = try axesOperand(inputIndex: 1, sinceOpset: 18) ?? []
        if axes.isEmpty {
            if (try attributes.int("noop_with_empty_axes") ?? 0) != 0 { throw GraphError(.attribute, "ReduceMean with noop_with_empty_axes is not supported") }
            axes = Array(0..<r)
        }
        return (.reduceMean(axes: try normalise(axes, rank: r).sorted(), keepDims: keep), [0])
    }

    func reshape() throws(GraphError) -> (Operator, [Int]) {
        guard inputs.count > 1, let k = inputs[1] else { throw GraphError(.structure, "Reshape needs a shape input") }
        guard let a = k.constant(world: 1), let b = k.constant(world: 2) else {
            throw GraphError(.structure, "Reshape shape must be computable before the input arrives")
        }
        let one = try a.integers("shape"), two = try b.integers("shape")
        guard one.count == two.count else { throw GraphError(.shape, "reshape target rank depends on the batch size") }
        let allowZero = (try attributes.int("allowzero") ?? 0) != 0
        var dims: [ShapeTemplateDimension] = []
        for (x, y) in zip(one, two) {
            if x == y {
                switch x {
                case 0 where !allowZero: dims.append(.copyInput)
                case -1: dims.append(.infer)
                case let v where v >= 0: dims.append(.fixed(v))
                default: throw GraphError(.attribute, "reshape target entry \(x) is invalid")
                }
            } else if y == 2 * x && x > 0 {
                dims.append(.batchTimes(x))
            } else {
                throw GraphError(.shape, "reshape target entry is \(x) at batch 1 and \(y) at batch 2: not proportional to the batch")
            }
        }
        guard dims.filter({ $0 == .infer }).count <= 1 else { throw GraphError(.attribute, "reshape target has more than one -1") }
        return (.reshape(ShapeTemplate(dims)), [0])
    }

    func pad() throws(GraphError) -> (Operator, [Int]) {
        let r = try rank(0)
        let modeName = try attributes.string("mode") ?? "constant"
        guard let mode = PadMode(rawValue: modeName) else { throw GraphError(.attribute, "Pad mode '\(modeName)' is not supported") }
        var pads: [Int]
        var value: Float = 0
        if opset < 11 {
            pads = try attributes.ints("pads") ?? []
            value = try attributes.float("value") ?? 0
        } else {
            guard let p = try constantOperand(1, "pads") else { throw GraphError(.structure, "Pad needs pads") }
            pads = try p.integers("pads")
            if let c = try constantOperand(2, "constant_value"), c.count > 0 { value = Float(c.elements[0]) }
            if let axesValue = try constantOperand(3, "axes") {
                let axes = try normalise(try axesValue.integers("axes"), rank: r)
                guard pads.count == 2 * axes.count else { throw GraphError(.attribute, "pads has \(pads.count) values for \(axes.count) axes") }
                var full = [Int](repeating: 0, count: 2 * r)
                for (i, a) in axes.enumerated() { full[a] = pads[i]; full[a + r] = pads[i + axes.count] }
                pads = full
            }
        }
        guard pads.count == 2 * r else { throw GraphError(.attribute, "pads has \(pads.count) values for rank \(r)") }
        guard pads.allSatisfy({ abs($0) < 1 << 16 }) else { throw GraphError(.attribute, "pads \(pads) out of range") }
        if mode != .constant && pads.contains(where: { $0 < 0 }) { throw GraphError(.attribute, "negative pads need constant mode") }
        return (.pad(pads: pads, mode: mode, value: value), [0])
    }

    func slice() throws(GraphError) -> (Operator, [Int]) {
        let r = try rank(0)
        var starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?
        if opset < 10 {
            starts = try attributes.ints("starts") ?? []
            ends = try attributes.ints("ends") ?? []
            axes = try attributes.ints("axes")
        } else {
            guard let s = try constantOperand(1, "starts"), let e = try constantOperand(2, "ends") else {
                throw GraphError(.structure, "Slice needs starts and ends")
            }
            starts = s.clampedIntegers()
            ends = e.clampedIntegers()
            axes = try constantOperand(3, "axes")?.integers("axes")
            steps = try constantOperand(4, "steps")?.integers("steps")
        }
        let attrs = try Importer.sliceAttributes(starts: starts, ends: ends, axes: axes ?? Array(0..<starts.count),
                                                 steps: steps ?? [Int](repeating: 1, count: starts.count), rank: r)
        return (.slice(attrs), [0])
    }
}
