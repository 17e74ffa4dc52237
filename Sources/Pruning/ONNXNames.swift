import ONNXFormat

/// How the tensor names of an ONNX graph relate: which are aliases (the importer turns Identity,
/// Dropout and float Casts into the same value), and where each constant comes from.
struct ONNXNames {
    /// Output name → input name of every aliasing node.
    var aliasOf: [String: String] = [:]
    var initializerIndex: [String: Int] = [:]
    /// Output name → index of the `Constant` node producing it.
    var constantNode: [String: Int] = [:]
    /// Every name used in the graph, for choosing fresh ones.
    var used: Set<String> = []

    init(_ graph: ONNXGraph) {
        for (i, t) in graph.initializers.enumerated() { initializerIndex[t.name] = i; used.insert(t.name) }
        for info in graph.inputs + graph.outputs + graph.valueInfo { used.insert(info.name) }
        for (i, node) in graph.nodes.enumerated() {
            used.formUnion(node.inputs); used.formUnion(node.outputs)
            guard node.domain.isEmpty || node.domain == "ai.onnx", let out = node.outputs.first, !out.isEmpty else { continue }
            let castTarget = node.attribute("to")?.intValue ?? 1
            if ["Identity", "Dropout"].contains(node.opType) || (node.opType == "Cast" && [1, 10, 11, 16].contains(castTarget)),
               let input = node.inputs.first, !input.isEmpty {
                aliasOf[out] = input
            } else if node.opType == "Constant" {
                constantNode[out] = i
            }
        }
    }

    /// The name at the end of an alias chain.
    func root(_ name: String) -> String {
        var name = name
        var steps = 0
        while let next = aliasOf[name], steps < aliasOf.count { name = next; steps += 1 }
        return name
    }

    /// A name not used yet, derived from `base`.
    mutating func fresh(_ base: String) -> String {
        var candidate = "\(base)_pruned"
        var k = 2
        while used.contains(candidate) { candidate = "\(base)_pruned\(k)"; k += 1 }
        used.insert(candidate)
        return candidate
    }
}

/// A constant tensor's home in the ONNX graph.
enum ConstantSource: Equatable {
    case initializer(Int)
    case constantNode(Int)

    /// The tensor, with `value_floats` / `value_ints` constants read as 1-D tensors.
    func tensor(in graph: ONNXGraph, name: String) -> ONNXTensor? {
        switch self {
        case .initializer(let i):
            return graph.initializers[i]
        case .constantNode(let i):
            let node = graph.nodes[i]
            if let t = node.attribute("value")?.tensorValue { return ONNXTensor(name: name, dataType: t.dataType, dims: t.dims, data: t.data) }
            if let f = node.attribute("value_floats")?.floatsValue { return ONNXTensor(name: name, floats: f, dims: [f.count]) }
            if let v = node.attribute("value_ints")?.intsValue { return ONNXTensor(name: name, int64s: v, dims: [v.count]) }
            if let f = node.attribute("value_float")?.floatValue { return ONNXTensor(name: name, floats: [f], dims: []) }
            if let v = node.attribute("value_int")?.intValue { return ONNXTensor(name: name, int64s: [v], dims: []) }
            return nil
        }
    }

    /// Replaces the tensor in place (a Constant node then holds it as its `value`).
    func store(_ tensor: ONNXTensor, in graph: inout ONNXGraph) {
        switch self {
        case .initializer(let i):
            var t = tensor
            t.name = graph.initializers[i].name
            t.docString = graph.initializers[i].docString
            graph.initializers[i] = t
        case .constantNode(let i):
            var t = tensor
            t.name = graph.nodes[i].attribute("value")?.tensorValue?.name ?? ""
            graph.nodes[i].attributes = [ONNXAttribute(name: "value", value: .tensor(t))]
        }
    }
}
