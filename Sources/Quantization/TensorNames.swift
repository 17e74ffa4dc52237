import ONNXFormat

/// Fresh tensor and node names for what the export adds, derived from the tensor they belong to
/// (`conv1.weight_quantized`), never colliding with a name the model uses.
struct TensorNames {
    private var used: Set<String> = []

    init(_ graph: ONNXGraph) {
        for t in graph.initializers { used.insert(t.name) }
        for info in graph.inputs + graph.outputs + graph.valueInfo { used.insert(info.name) }
        for node in graph.nodes {
            used.insert(node.name)
            used.formUnion(node.inputs)
            used.formUnion(node.outputs)
        }
    }

    /// `base_suffix`, or `base_suffix2`, `base_suffix3`, … when taken.
    mutating func fresh(_ base: String, _ suffix: String) -> String {
        var candidate = "\(base)_\(suffix)"
        var k = 2
        while used.contains(candidate) { candidate = "\(base)_\(suffix)\(k)"; k += 1 }
        used.insert(candidate)
        return candidate
    }
}
