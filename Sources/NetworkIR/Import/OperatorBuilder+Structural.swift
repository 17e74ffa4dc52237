/// Builders for the structural, normalization and resampling operators, with their opset
/// differences: Resize 10/11/13/18/19 and Upsample 7/9, ReduceSum's axes input from opset 13 and
/// ReduceMax's from 18, BatchNormalization's `spatial` before opset 9.
extension OperatorBuilder {
    /// BatchNormalization before opset 9 has `spatial`: 1 is the ordinary per-channel form;
    /// spatial=0 normalizes per activation (parameters of shape C×H×W), which WeakSpot refuses.
    /// `is_test` and `consumed_inputs` (opset ≤ 6) change nothing at inference and are ignored.
    func checkLegacyBatchNormalization() throws(GraphError) {
        if opset < 9, (try attributes.int("spatial") ?? 1) == 0 {
            throw GraphError(.attribute, "BatchNormalization with spatial=0 (per-activation statistics) is not supported; only spatial=1")
        }
    }

    func lrn() throws(GraphError) -> (Operator, [Int]) {
        guard let size = try attributes.int("size"), size >= 1, size < 1 << 16 else {
            throw GraphError(.attribute, "attribute 'size': LRN needs a positive window size")
        }
        let a = LRNAttributes(size: size, alpha: try attributes.float("alpha") ?? 1e-4, beta: try attributes.float("beta") ?? 0.75,
                              bias: try attributes.float("bias") ?? 1)
        guard a.bias.isFinite, a.alpha.isFinite, a.beta.isFinite else { throw GraphError(.attribute, "LRN alpha, beta and bias must be finite") }
        return (.lrn(a), [0])
    }

    func instanceNormalization() throws(GraphError) -> (Operator, [Int]) {
        guard isConstant(1), isConstant(2) else { throw GraphError(.structure, "InstanceNormalization scale and bias must be constants") }
        let epsilon = try attributes.float("epsilon") ?? 1e-5
        guard epsilon >= 0, epsilon.isFinite else { throw GraphError(.attribute, "attribute 'epsilon': \(epsilon) is not a non-negative number") }
        return (.instanceNormalization(epsilon: epsilon), [0, 1, 2])
    }

    func reduceSumOrMax() throws(GraphError) -> (Operator, [Int]) {
        let r = try rank(0)
        let keep = (try attributes.int("keepdims") ?? 1) != 0
        var axes = try axesOperand(inputIndex: 1, sinceOpset: opType == "ReduceSum" ? 13 : 18) ?? []
        let noop = (try attributes.int("noop_with_empty_axes") ?? 0) != 0
        if axes.isEmpty && !noop { axes = Array(0..<r) }
        axes = try normalise(axes, rank: r).sorted()
        return (opType == "ReduceSum" ? .reduceSum(axes: axes, keepDims: keep) : .reduceMax(axes: axes, keepDims: keep), [0])
    }

    func expand() throws(GraphError) -> (Operator, [Int]) {
        guard inputs.count > 1, let k = inputs[1], let a = k.constant(world: 1), let b = k.constant(world: 2) else {
            throw GraphError(.structure, "Expand shape must be computable before the input arrives")
        }
        let one = try a.integers("shape"), two = try b.integers("shape")
        guard one.count == two.count, one.count <= 8 else { throw GraphError(.attribute, "Expand shape \(one) is invalid") }
        var dims: [ShapeTemplateDimension] = []
        for (x, y) in zip(one, two) {
            guard x >= 1, x < 1 << 31 else { throw GraphError(.attribute, "Expand shape entry \(x) is not a positive size") }
            if x == y { dims.append(.fixed(x)) } else if y == 2 * x { dims.append(.batchTimes(x)) } else {
                throw GraphError(.shape, "Expand shape entry is \(x) at batch 1 and \(y) at batch 2: not proportional to the batch")
            }
        }
        return (.expand(ShapeTemplate(dims)), [0])
    }

    /// Gather of an activation: the indices must be a constant integer tensor; negative indices
    /// count from the end since opset 11 (earlier opsets require them in range).
    func gather() throws(GraphError) -> (Operator, [Int]) {
        guard let c = try constantOperand(1, "indices") else { throw GraphError(.structure, "Gather of an activation needs constant indices") }
        guard c.kind == .integer else { throw GraphError(.attribute, "Gather indices must be integers") }
        let r = try rank(0)
        var axis = try attributes.int("axis") ?? 0
        if axis < 0 { axis += r }
        guard axis >= 0, axis < r else { throw GraphError(.attribute, "attribute 'axis': \(axis) out of range for rank \(r)") }
        guard axis > 0 else { throw GraphError(.unsupportedOperator, "Gather along axis 0 (the batch) of an activation is not supported") }
        guard case .runtime(_, let s1, _)? = inputs[0] else { throw GraphError(.structure, "Gather data must be an activation here") }
        let dim = s1[axis]
        let raw = try c.integers("indices")
        var indices: [Int] = []
        indices.reserveCapacity(raw.count)
        for i in raw {
            guard i < dim, i >= -dim, i >= 0 || opset >= 11 else {
                throw GraphError(.attribute, "Gather index \(i) out of range for axis \(axis) of size \(dim)\(i < 0 && opset < 11 ? " (negative indices need opset 11)" : "")")
            }
            indices.append(i < 0 ? i + dim : i)
        }
        guard c.shape.count + r - 1 <= 8 else { throw GraphError(.attribute, "Gather indices of rank \(c.shape.count) give an output of rank above 8") }
        return (.gather(GatherAttributes(axis: axis, indices: indices, indicesShape: c.shape)), [0])
    }

    func tile() throws(GraphError) -> (Operator, [Int]) {
        guard let c = try constantOperand(1, "repeats") else { throw GraphError(.structure, "Tile needs repeats") }
        let repeats = try c.integers("repeats")
        guard repeats.count == (try rank(0)), repeats.allSatisfy({ $0 >= 1 && $0 < 1 << 31 }) else {
            throw GraphError(.attribute, "Tile repeats \(repeats) must be one positive count per axis of the input")
        }
        return (.tile(repeats: repeats), [0])
    }

    func convTranspose() throws(GraphError) -> (Operator, [Int]) {
        guard isConstant(1), case .weight(let w, _)? = inputs[1] ?? nil else {
            throw GraphError(.structure, "ConvTranspose weight must be a float constant")
        }
        guard w.shape.count == 4 else { throw GraphError(.attribute, "only 2-D ConvTranspose is supported; weight shape \(w.shape)") }
        let kernel = try attributes.ints("kernel_shape") ?? [w.shape[2], w.shape[3]]
        guard kernel == [w.shape[2], w.shape[3]] else { throw GraphError(.attribute, "attribute 'kernel_shape': \(kernel) does not match weight \(w.shape)") }
        let (pads, autoPad) = try padsAndAutoPad()
        let group = try attributes.int("group") ?? 1
        guard group >= 1, w.shape[0] % group == 0 else { throw GraphError(.attribute, "attribute 'group': \(group) does not divide the weight's \(w.shape[0]) input channels") }
        if inputs.count > 2, inputs[2] != nil, !isConstant(2) { throw GraphError(.structure, "ConvTranspose bias must be a constant") }
        let strides = try spatial("strides", default: 1), dilations = try spatial("dilations", default: 1)
        guard (strides + dilations).allSatisfy({ $0 < 1 << 16 }) else {
            throw GraphError(.attribute, "ConvTranspose strides \(strides) and dilations \(dilations) must be below 65536")
        }
        let outputPadding = try attributes.ints("output_padding") ?? [0, 0]
        guard outputPadding.count == 2, (0..<2).allSatisfy({ outputPadding[$0] >= 0 && (outputPadding[$0] < strides[$0] || outputPadding[$0] < dilations[$0]) }) else {
            throw GraphError(.attribute, "attribute 'output_padding': \(outputPadding) must be 2 values below the strides \(strides) or dilations \(dilations)")
        }
        let a = ConvTransposeAttributes(kernel: kernel, strides: strides, dilations: dilations, pads: pads, outputPadding: outputPadding,
                                        autoPad: autoPad, groups: group)
        if let wanted = try attributes.ints("output_shape"), case .runtime(_, let s, _)? = inputs[0], s.count == 4 {
            let size = a.outputSize(inputHeight: s[2], inputWidth: s[3])
            guard Array(wanted.suffix(2)) == [size.height, size.width] else {
                throw GraphError(.attribute, "attribute 'output_shape' \(wanted) differs from the size the pads give (\(size.height)x\(size.width)); give explicit pads instead")
            }
        }
        return (.convTranspose(a), inputs.count > 2 && inputs[2] != nil ? [0, 1, 2] : [0, 1])
    }

    /// ONNX `Resize` (opset 10+) and `Upsample` (opset 7–9) on the spatial axes of NCHW.
    func resize() throws(GraphError) -> (Operator, [Int]) {
        guard case .runtime(_, let s1, let s2)? = inputs.first ?? nil, s1.count == 4 else {
            throw GraphError(.shape, "\(opType) supports an NCHW (rank 4) activation only")
        }
        let modeName = try attributes.string("mode") ?? "nearest"
        guard let mode = ResizeAttributes.Mode(rawValue: modeName == "bilinear" ? "linear" : modeName) else {
            throw GraphError(.attribute, "\(opType) mode '\(modeName)' is not supported (nearest and linear are)")
        }
        let modern = opType == "Resize" && opset >= 11
        let transformName = modern ? try attributes.string("coordinate_transformation_mode") ?? "half_pixel" : "asymmetric"
        guard let transform = ResizeAttributes.CoordinateTransform(rawValue: transformName) else {
            throw GraphError(.attribute, "coordinate_transformation_mode '\(transformName)' is not supported (asymmetric, half_pixel, pytorch_half_pixel, align_corners, half_pixel_symmetric, tf_half_pixel_for_nn are)")
        }
        let nearestName = modern ? try attributes.string("nearest_mode") ?? "round_prefer_floor" : "simple"
        guard let nearestMode = ResizeAttributes.NearestMode(rawValue: nearestName), nearestName != "simple" || !modern else {
            throw GraphError(.attribute, "nearest_mode '\(nearestName)' is not supported")
        }
        if (try attributes.int("antialias") ?? 0) != 0 { throw GraphError(.attribute, "Resize with antialias=1 is not supported") }
        let policy = try attributes.string("keep_aspect_ratio_policy") ?? "stretch"
        guard policy == "stretch" else { throw GraphError(.attribute, "keep_aspect_ratio_policy '\(policy)' is not supported (stretch is)") }
        let axes = try normalise(try attributes.ints("axes") ?? [0, 1, 2, 3], rank: 4)

        var scales: [Float]? = nil, sizes: [Int]? = nil
        if opType == "Upsample" && opset < 9 {
            scales = try attributes.floats("scales")
            guard scales != nil else { throw GraphError(.attribute, "Upsample needs the 'scales' attribute") }
        } else {
            let scalesIndex = opType == "Upsample" || opset < 11 ? 1 : 2
            if let c = try constantOperand(scalesIndex, "scales"), c.count > 0 { scales = c.elements.map { Float($0) } }
            if modern, inputs.count > 3, let k = inputs[3], let one = k.constant(world: 1), let two = k.constant(world: 2), one.count > 0 {
                let a = try one.integers("sizes"), b = try two.integers("sizes")
                guard a.count == axes.count, b.count == axes.count else { throw GraphError(.attribute, "sizes \(a) does not give one size per axis \(axes)") }
                guard a.allSatisfy({ $0 >= 1 }) else { throw GraphError(.attribute, "Resize sizes \(a) must be positive") }
                var full1 = s1, full2 = s2
                for (i, axis) in axes.enumerated() { full1[axis] = a[i]; full2[axis] = b[i] }
                guard full1[0] == s1[0], full2[0] == s2[0], full1[1] == s1[1], full2[1] == s2[1], full1[2...] == full2[2...] else {
                    throw GraphError(.attribute, "Resize sizes \(a) change the batch or channel axis; only H and W can be resized")
                }
                sizes = [full1[2], full1[3]]
            }
        }
        if sizes == nil {
            guard let given = scales else { throw GraphError(.structure, "\(opType) needs scales or sizes") }
            guard given.count == axes.count else { throw GraphError(.attribute, "scales \(given) does not give one scale per axis \(axes)") }
            var full: [Float] = [1, 1, 1, 1]
            for (i, axis) in axes.enumerated() { full[axis] = given[i] }
            guard full[0] == 1, full[1] == 1 else { throw GraphError(.attribute, "\(opType) scales \(given) scale the batch or channel axis; only H and W can be resized") }
            guard full[2...].allSatisfy({ $0.isFinite && $0 > 0 && $0 <= 1_048_576 }) else {
                throw GraphError(.attribute, "\(opType) scales \(given) must be positive and finite")
            }
            scales = [full[2], full[3]]
        } else if let given = scales, !given.isEmpty {
            throw GraphError(.attribute, "Resize has both scales and sizes; ONNX allows only one")
        } else {
            scales = nil
        }
        return (.resize(ResizeAttributes(mode: mode, transform: transform, nearestMode: nearestMode, scales: scales, sizes: sizes)), [0])
    }
}
