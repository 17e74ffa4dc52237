import ONNXFormat

/// Typed access to a node's attributes, with errors that name the attribute and what was expected.
struct AttributeReader {
    let attributes: [ONNXAttribute]

    private func find(_ name: String) -> ONNXAttribute.Value? {
        attributes.first { $0.name == name }?.value
    }

    func int(_ name: String) throws(GraphError) -> Int? {
        guard let v = find(name) else { return nil }
        guard case .int(let i) = v, let result = Int(exactly: i) else {
            throw GraphError(.attribute, "attribute '\(name)': expected an integer")
        }
        return result
    }

    func float(_ name: String) throws(GraphError) -> Float? {
        guard let v = find(name) else { return nil }
        switch v {
        case .float(let f): return f
        case .int(let i): return Float(i)
        default: throw GraphError(.attribute, "attribute '\(name)': expected a float")
        }
    }

    func ints(_ name: String) throws(GraphError) -> [Int]? {
        guard let v = find(name) else { return nil }
        guard case .ints(let values) = v else { throw GraphError(.attribute, "attribute '\(name)': expected a list of integers") }
        var result = [Int]()
        for x in values {
            guard let i = Int(exactly: x), abs(i) < 1 << 40 else { throw GraphError(.attribute, "attribute '\(name)': value \(x) out of range") }
            result.append(i)
        }
        return result
    }

    func floats(_ name: String) throws(GraphError) -> [Float]? {
        guard let v = find(name) else { return nil }
        guard case .floats(let values) = v else { throw GraphError(.attribute, "attribute '\(name)': expected a list of floats") }
        return values
    }

    func string(_ name: String) throws(GraphError) -> String? {
        guard let v = find(name) else { return nil }
        guard case .string(let bytes) = v else { throw GraphError(.attribute, "attribute '\(name)': expected a string") }
        return String(decoding: bytes, as: UTF8.self)
    }

    func tensorValue(_ name: String) throws(GraphError) -> ConstantValue? {
        guard let v = find(name) else { return nil }
        guard case .tensor(let t) = v else { throw GraphError(.attribute, "attribute '\(name)': expected a tensor") }
        return try ConstantValue(onnx: t)
    }

    /// The value of a `Constant` node, whichever attribute carries it.
    func constantNodeValue() throws(GraphError) -> ConstantValue {
        if let t = try tensorValue("value") { return t }
        if let f = try float("value_float") { return ConstantValue(kind: .float, shape: [], elements: [Double(f)]) }
        if let fs = try floats("value_floats") { return ConstantValue(kind: .float, shape: [fs.count], elements: fs.map(Double.init)) }
        if let i = try int("value_int") { return ConstantValue(kind: .integer, shape: [], elements: [Double(i)]) }
        if let is_ = try ints("value_ints") { return ConstantValue(integers: is_) }
        throw GraphError(.attribute, "Constant has no supported value attribute (value, value_float(s), value_int(s))")
    }
}

extension ConstantValue {
    init(onnx tensor: ONNXTensor) throws(GraphError) {
        let dims = tensor.dims
        switch tensor.dataType {
        case .float, .float16, .double, .bfloat16:
            let values: [Float]
            do { values = try tensor.floats() } catch { throw GraphError(.input, "tensor '\(tensor.name)': \(error)") }
            self.init(kind: .float, shape: dims, elements: values.map(Double.init))
        case .int64, .int32, .int8, .uint8, .int16, .uint16, .bool, .uint32, .uint64:
            let values: [Int64]
            do { values = try tensor.int64s() } catch { throw GraphError(.input, "tensor '\(tensor.name)': \(error)") }
            self.init(kind: .integer, shape: dims, elements: values.map(Double.init))
        default:
            throw GraphError(.input, "tensor '\(tensor.name)': data type \(tensor.dataType) is not supported")
        }
        guard shape.reduce(1, *) == elements.count else {
            throw GraphError(.input, "tensor '\(tensor.name)': \(elements.count) values for shape \(dims)")
        }
    }
}
