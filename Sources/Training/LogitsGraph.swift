import NetworkIR

/// Models exported with their final Softmax (Keras does this) give probabilities; the losses and
/// the validation metrics want logits. Training runs on the graph without that last node; the
/// node stays in the written model, since only constants are written back.
public enum LogitsGraph {
    /// `graph` with a trailing Softmax over the last axis removed (its input becomes the first
    /// output), or `graph` unchanged.
    public static func strippingFinalSoftmax(_ graph: Graph) -> Graph {
        guard let out = graph.outputs.first,
              let index = graph.nodes.lastIndex(where: { $0.outputs.contains(out) }),
              case .softmax(let axis) = graph.nodes[index].op,
              axis == -1 || axis == 1,
              !graph.nodes.contains(where: { $0.inputs.contains(out) }),
              let input = graph.nodes[index].inputs.first else { return graph }
        var copy = graph
        copy.nodes.remove(at: index)
        copy.outputs[0] = input
        return copy
    }
}
