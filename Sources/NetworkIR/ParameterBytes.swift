import ONNXFormat

/// The bytes each weight of an imported graph takes in its ONNX file, for `weakspot count` and
/// size targets: a float32 initializer 4 per element (float16 2), a quantized weight — a
/// DequantizeLinear of stored integers — its integers (1 byte each as int8) plus its scales and
/// zero points, a weight computed at import (a ConstantOfShape fill) the stored tensors it is
/// computed from. Every stored tensor is counted once, by the first weight that reaches it, so
/// a scale shared by several DequantizeLinear nodes is not counted twice and the bytes add up to
/// what the weights' initializers hold.
public enum ParameterBytes {
    /// Stored bytes by constant of `graph`, which must be `model` imported. A constant whose
    /// name the ONNX graph does not know (none today) is absent: callers count it as float32.
    public static func stored(_ graph: Graph, model: ONNXModel) -> [ValueID: Int] {
        let onnx = model.graph
        var stored: [String: Int] = [:]
        for t in onnx.initializers { stored[t.name] = t.dataType.rawByteCount(elements: t.elementCount) ?? 0 }
        var producer: [String: Int] = [:]
        for (i, node) in onnx.nodes.enumerated() {
            for o in node.outputs where !o.isEmpty { producer[o] = i }
            if node.opType == "Constant", let out = node.outputs.first, let t = constantTensor(node) {
                stored[out] = t.dataType.rawByteCount(elements: t.elementCount) ?? 0
            }
        }
        var counted = Set<String>()
        /// The bytes of the stored tensors `name` is computed from, not counted before.
        func bytes(_ name: String) -> Int {
            var total = 0
            var pending = [name], seen = Set<String>()
            while let n = pending.popLast() {
                guard seen.insert(n).inserted else { continue }
                if let b = stored[n] {
                    if counted.insert(n).inserted { total += b }
                } else if let p = producer[n] {
                    pending += onnx.nodes[p].inputs.filter { !$0.isEmpty }
                }
            }
            return total
        }
        var result: [ValueID: Int] = [:]
        for v in graph.constants.keys.sorted() where stored[graph.values[v].name] != nil || producer[graph.values[v].name] != nil {
            result[v] = bytes(graph.values[v].name)
        }
        return result
    }

    static func constantTensor(_ node: ONNXNode) -> ONNXTensor? {
        if let t = node.attribute("value")?.tensorValue { return t }
        if let f = node.attribute("value_floats")?.floatsValue { return ONNXTensor(name: "", floats: f, dims: [f.count]) }
        if let v = node.attribute("value_ints")?.intsValue { return ONNXTensor(name: "", int64s: v, dims: [v.count]) }
        if node.attribute("value_float") != nil { return ONNXTensor(name: "", floats: [0], dims: []) }
        if node.attribute("value_int") != nil { return ONNXTensor(name: "", int64s: [0], dims: []) }
        return nil
    }
}
