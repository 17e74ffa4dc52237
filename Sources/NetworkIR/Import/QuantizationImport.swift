import ONNXFormat

/// `QuantizeLinear` / `DequantizeLinear` of constants, folded at import as ONNX defines them:
/// q = saturate(round_half_even(x / scale) + zero_point), x = (q − zero_point) × scale, in
/// float32, per tensor or per `axis` (opset 13+). A quantized export stores its weights as int8
/// behind a `DequantizeLinear`; folding makes that a constant float weight, so Conv and Gemm see
/// weights as in any float model and `count` counts them. Scales that are zero, negative or not
/// finite, zero points outside their type and scale shapes that do not fit the axis are refused
/// naming the node. On an activation, a QuantizeLinear → DequantizeLinear pair (per tensor) runs as
/// one `fakeQuantize` node; a lone one is refused, as WeakSpot has no integer activations.
extension ImportState {
    /// The scale, zero point and integer range of a QuantizeLinear/DequantizeLinear node.
    struct QuantizationParameters {
        var scale: ConstantValue
        var zeroPoint: ConstantValue?
        var type: ONNXDataType
        var range: ClosedRange<Double>
    }

    func quantizationParameters(_ node: ONNXNode, _ ins: [KnownValue?], _ attributes: AttributeReader) throws(GraphError) -> QuantizationParameters {
        let dequantize = node.opType == "DequantizeLinear"
        if let blockSize = try attributes.int("block_size"), blockSize != 0 {
            throw GraphError(.attribute, "attribute 'block_size' \(blockSize): blocked quantization is not supported")
        }
        guard ins.count >= 2, let scaleValue = ins[1] ?? nil, let scale = scaleValue.constant(world: 1), scale.kind == .float else {
            throw GraphError(.structure, "\(node.opType) scale (input 1) must be a float constant")
        }
        for (i, s) in scale.elements.enumerated() where !(s.isFinite && s > 0) {
            throw GraphError(.attribute, "scale element \(i) is \(s); a quantization scale must be finite and positive")
        }
        let zeroPoint = ins.count > 2 ? (ins[2] ?? nil)?.constant(world: 1) : nil
        let zeroPointType = node.inputs.count > 2 ? dataTypes[node.inputs[2]] : nil
        let type: ONNXDataType
        if dequantize {
            type = dataTypes[node.inputs[0]] ?? zeroPointType ?? .uint8
        } else if let t = zeroPointType {
            type = t
        } else if let code = try attributes.int("output_dtype"), code != 0 {
            guard let t = ONNXDataType(rawValue: Int32(truncatingIfNeeded: code)) else { throw GraphError(.attribute, "attribute 'output_dtype' \(code) is not an ONNX type") }
            type = t
        } else {
            type = .uint8
        }
        let range = try Self.quantizedRange(type, allowInt32: dequantize)
        if let zeroPoint {
            guard zeroPoint.kind == .integer, zeroPoint.count == scale.count else {
                throw GraphError(.attribute, "zero point shape \(zeroPoint.shape) does not match scale shape \(scale.shape)")
            }
            if let bad = zeroPoint.elements.firstIndex(where: { !range.contains($0) }) {
                throw GraphError(.attribute, "zero point element \(bad) (\(zeroPoint.elements[bad])) is outside \(type.label)'s range \(Int(range.lowerBound))...\(Int(range.upperBound))")
            }
        }
        return QuantizationParameters(scale: scale, zeroPoint: zeroPoint, type: type, range: range)
    }

    /// A QuantizeLinear of an activation: remembered until the DequantizeLinear that reads it
    /// (WeakSpot has no integer activations, so the pair runs as one fake-quantization node).
    func pendingQuantization(_ node: ONNXNode, _ ins: [KnownValue?], _ attributes: AttributeReader) throws(GraphError) -> PendingQuantization {
        guard case .runtime(let id, let s1, let s2)? = ins.first ?? nil else { throw GraphError(.structure, "QuantizeLinear needs an input") }
        let p = try quantizationParameters(node, ins, attributes)
        guard p.scale.count == 1 else {
            throw GraphError(.unsupportedOperator, "QuantizeLinear of an activation per axis (scale shape \(p.scale.shape)) is not supported; activations are quantized per tensor")
        }
        return PendingQuantization(input: id, shapes: (s1, s2), parameters: p, type: p.type)
    }

    /// The DequantizeLinear reading a pending QuantizeLinear: one `fakeQuantize` node.
    mutating func importFakeQuantization(_ node: ONNXNode, _ pending: PendingQuantization, name: String, attributes: AttributeReader) throws(GraphError) {
        var ins: [KnownValue?] = [nil]
        for i in node.inputs.dropFirst() {
            guard !i.isEmpty else { ins.append(nil); continue }
            guard let k = known[i] else { throw GraphError(.structure, "input '\(i)' is never produced") }
            ins.append(k)
        }
        var p = try quantizationParameters(node, ins, attributes)
        p.type = pending.type
        guard p.scale.count == 1 else {
            throw GraphError(.unsupportedOperator, "DequantizeLinear of an activation per axis (scale shape \(p.scale.shape)) is not supported; activations are quantized per tensor")
        }
        if let zp = p.zeroPoint, !pending.parameters.range.contains(zp.elements[0]) {
            throw GraphError(.attribute, "zero point \(zp.elements[0]) is outside \(pending.type.label)'s range")
        }
        let q = pending.parameters
        let f = FakeQuantization(scale: Float(q.scale.elements[0]), zeroPoint: Float(q.zeroPoint?.elements[0] ?? 0),
                                 dequantizeScale: Float(p.scale.elements[0]), dequantizeZeroPoint: Float(p.zeroPoint?.elements[0] ?? 0),
                                 lowest: Float(q.range.lowerBound), highest: Float(q.range.upperBound))
        let id = newValue(node.outputs[0])
        nodes.append(Node(name: name, op: .fakeQuantize(f), inputs: [pending.input], outputs: [id]))
        known[node.outputs[0]] = .runtime(id, pending.shapes.0, pending.shapes.1)
    }

    mutating func importQuantization(_ node: ONNXNode, _ ins: [KnownValue?], _ attributes: AttributeReader) throws(GraphError) -> KnownValue {
        let dequantize = node.opType == "DequantizeLinear"
        guard let x = ins.first ?? nil else { throw GraphError(.structure, "\(node.opType) needs an input") }
        guard let values = x.constant(world: 1), x.constant(world: 2) == values else {
            throw GraphError(.unsupportedOperator, "\(node.opType) of an activation is supported only as a QuantizeLinear → DequantizeLinear pair (fake quantization); see docs/export.md")
        }
        let p = try quantizationParameters(node, ins, attributes)
        let (scale, zeroPoint, range, quantizedType) = (p.scale, p.zeroPoint, p.range, p.type)
        let axis = try quantizationAxis(values.shape, scale: scale, attributes)
        if dequantize, let bad = values.elements.firstIndex(where: { !range.contains($0) }) {
            throw GraphError(.attribute, "input x element \(bad) (\(values.elements[bad])) is outside \(quantizedType.label)'s range")
        }
        // Index of the scale/zero point that applies to each element: along `axis`, or the one.
        let inner = axis.map { values.shape[($0 + 1)...].reduce(1, *) } ?? 1
        let dim = axis.map { values.shape[$0] } ?? 1
        func parameter(_ i: Int) -> Int { axis == nil ? 0 : (i / inner) % dim }
        if dequantize {
            var out = [Float](repeating: 0, count: values.count)
            for i in 0..<values.count {
                let p = parameter(i)
                let zp = zeroPoint?.elements[p] ?? 0
                out[i] = Float(values.elements[i] - zp) * Float(scale.elements[p])
            }
            return .weight(Tensor(shape: values.shape, storage: out), origin: node.outputs[0])
        }
        var out = [Double](repeating: 0, count: values.count)
        for i in 0..<values.count {
            let p = parameter(i)
            let q = (Float(values.elements[i]) / Float(scale.elements[p])).rounded(.toNearestOrEven)
            let shifted = q.isNaN ? Double(zeroPoint?.elements[p] ?? 0) : Double(q) + (zeroPoint?.elements[p] ?? 0)
            out[i] = min(max(shifted, range.lowerBound), range.upperBound)
        }
        dataTypes[node.outputs[0]] = quantizedType
        let result = ConstantValue(kind: .integer, shape: values.shape, elements: out)
        return .folded(result, result)
    }

    /// The axis the scale runs along, nil for one scale for the whole tensor.
    func quantizationAxis(_ shape: [Int], scale: ConstantValue, _ attributes: AttributeReader) throws(GraphError) -> Int? {
        if scale.count == 1 && scale.shape.count <= 1 { return nil }
        guard opset >= 13 else { throw GraphError(.attribute, "scale shape \(scale.shape): before opset 13 the scale must be a scalar") }
        guard scale.shape.count == 1 else { throw GraphError(.attribute, "scale shape \(scale.shape) must be a scalar or 1-D") }
        var axis = try attributes.int("axis") ?? 1
        if axis < 0 { axis += shape.count }
        guard axis >= 0, axis < shape.count else { throw GraphError(.attribute, "attribute 'axis' \(axis) out of range for rank \(shape.count)") }
        guard shape[axis] == scale.count else {
            throw GraphError(.attribute, "scale has \(scale.count) elements, but axis \(axis) of x \(shape) has \(shape[axis])")
        }
        return axis
    }

    /// The values a quantized type holds (int32 is a DequantizeLinear input for biases).
    static func quantizedRange(_ type: ONNXDataType, allowInt32: Bool) throws(GraphError) -> ClosedRange<Double> {
        switch type {
        case .int8: return -128...127
        case .uint8: return 0...255
        case .int16: return -32768...32767
        case .uint16: return 0...65535
        case .int4: return -8...7
        case .uint4: return 0...15
        case .int32 where allowInt32: return Double(Int32.min)...Double(Int32.max)
        default: throw GraphError(.unsupportedOperator, "quantized type \(type.label) is not supported (int8, uint8, int16, uint16, int4, uint4\(allowInt32 ? ", int32" : ""))")
        }
    }
}

/// A QuantizeLinear of an activation waiting for its DequantizeLinear.
struct PendingQuantization {
    var input: ValueID
    var shapes: ([Int], [Int])
    var parameters: ImportState.QuantizationParameters
    var type: ONNXDataType
}
