import ONNXFormat

/// ONNX `Split` becomes one `Slice` node per output: each output is by definition a contiguous
/// range of the input along `axis`, and the rest of WeakSpot (executor, gradients, channel
/// analysis, pruning checks) is built around single-output nodes and already handles Slice.
extension ImportState {
    mutating func importSplit(_ node: ONNXNode, name: String, attributes: AttributeReader, inputs ins: [KnownValue?]) throws(GraphError) {
        guard case .runtime(let id, let s1, let s2)? = ins.first ?? nil else {
            throw GraphError(.structure, "Split of a constant is not supported (only of an activation)")
        }
        var axis = try attributes.int("axis") ?? 0
        if axis < 0 { axis += s1.count }
        guard axis >= 0, axis < s1.count else { throw GraphError(.attribute, "Split axis \(axis) out of range for rank \(s1.count)") }
        guard s1[axis] == s2[axis] else { throw GraphError(.attribute, "Split along the batch axis is not supported") }
        let dim = s1[axis]
        let outputs = node.outputs
        guard !outputs.isEmpty, outputs.count <= dim || dim == 0 else {
            throw GraphError(.attribute, "Split into \(outputs.count) outputs of an axis of size \(dim)")
        }
        let sizes = try splitSizes(dim: dim, outputs: outputs.count, attributes: attributes, inputs: ins)
        var offset = 0
        for (i, (output, size)) in zip(outputs, sizes).enumerated() {
            let slice = Operator.slice(SliceAttributes(starts: [offset], ends: [offset + size], axes: [axis], steps: [1]))
            offset += size
            guard !output.isEmpty else { continue }
            let out1 = try slice.outputShape([s1], batch: 1), out2 = try slice.outputShape([s2], batch: 2)
            let value = newValue(output)
            let nodeName = i == 0 ? name : uniqueName("\(name)/\(i)", opType: "Split", index: i)
            nodes.append(Node(name: nodeName, op: slice, inputs: [id], outputs: [value]))
            known[output] = .runtime(value, out1, out2)
        }
    }

    /// The length of each output: the `split` attribute (before opset 13) or input (13+), else
    /// equal parts — `num_outputs` (opset 18) allows a smaller last part, ceil(dim/n) each.
    func splitSizes(dim: Int, outputs: Int, attributes: AttributeReader, inputs ins: [KnownValue?]) throws(GraphError) -> [Int] {
        var given: [Int]? = nil
        if opset >= 13 {
            if ins.count > 1, let k = ins[1] {
                guard let a = k.constant(world: 1), a == k.constant(world: 2) else { throw GraphError(.structure, "Split sizes (input 1) must be constant") }
                given = try a.integers("split")
            }
        } else {
            given = try attributes.ints("split")
        }
        if let given {
            guard given.count == outputs, given.allSatisfy({ $0 >= 0 }), given.reduce(0, +) == dim else {
                throw GraphError(.attribute, "Split sizes \(given) do not divide an axis of \(dim) into \(outputs) outputs")
            }
            return given
        }
        if let n = try attributes.int("num_outputs") {
            guard n == outputs, n >= 1 else { throw GraphError(.attribute, "Split num_outputs \(n) but the node has \(outputs) outputs") }
            let part = (dim + n - 1) / n
            guard part * (n - 1) < dim || dim == 0 else { throw GraphError(.attribute, "Split of \(dim) into \(n) parts of \(part) leaves the last empty") }
            return (0..<n).map { min(part, max(0, dim - $0 * part)) }
        }
        guard dim % outputs == 0 else { throw GraphError(.attribute, "Split of an axis of \(dim) into \(outputs) equal parts is not exact") }
        return [Int](repeating: dim / outputs, count: outputs)
    }
}
