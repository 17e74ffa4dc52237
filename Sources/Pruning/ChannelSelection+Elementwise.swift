import NetworkIR

extension ChannelSelection {
    /// Whether a removed (zero) channel stays zero through Sum/Max/Min/Mean given the operands
    /// other than the pruned activations: Sum and Mean add them (zero only if they are constant
    /// zeros), Max keeps 0 when they are constants ≤ 0, Min when they are constants ≥ 0. Runtime
    /// operands that broadcast (a per-sample scalar) make it non-zero.
    static func variadicKeepsZero(_ kind: VariadicKind, others: [ValueID], graph: Graph) -> Bool {
        others.allSatisfy { v in
            guard let c = graph.constants[v] else { return false }
            switch kind {
            case .sum, .mean: return c.storage.allSatisfy { $0 == 0 }
            case .max: return c.storage.allSatisfy { $0 <= 0 }
            case .min: return c.storage.allSatisfy { $0 >= 0 }
            }
        }
    }

    /// Sum/Max/Min/Mean: the pruned operands must lose the same channels (the analysis tied them);
    /// the output loses them too, non-zero where an operand was or where `variadicKeepsZero` fails.
    static func variadic(_ kind: VariadicKind, node: Node, label: String, graph: Graph, kept: inout [ValueID: [Int]],
                         channels: [ValueID: Int], nonZeroSince: inout [ValueID: String]) throws(PruningError) {
        let live = node.inputs.filter { !graph.isConstant($0) }
        let pruned = live.filter { kept[$0] != nil }
        guard let first = pruned.first, let k = kept[first] else { return }
        for v in live where channels[v] == channels[first] && kept[v] != k {
            throw PruningError("the operands lose different channels", node: label)
        }
        let out = node.outputs[0]
        kept[out] = k
        let others = node.inputs.filter { kept[$0] == nil }
        let carried = pruned.compactMap { nonZeroSince[$0] }.first
        nonZeroSince[out] = carried ?? (variadicKeepsZero(kind, others: others, graph: graph) ? nil : label)
    }

    /// Pow keeps a zero channel zero when every exponent is positive (0⁰ = 1, 0⁻¹ = ∞).
    static func powerKeepsZero(_ node: Node, graph: Graph) -> Bool {
        guard node.inputs.count > 1, let e = graph.constants[node.inputs[1]] else { return false }
        return e.storage.allSatisfy { $0 > 0 }
    }
}
