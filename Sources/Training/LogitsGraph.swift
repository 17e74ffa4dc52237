import Influence
import NetworkIR

/// Models exported with their final Softmax (Keras does this) give probabilities; the losses and
/// the validation metrics want logits. Training runs on the graph without that last node
/// (`OutputKind.logitsGraph`): softmax cross-entropy and distillation on its input logits are
/// the same losses differentiated through the model's own Softmax. The node stays in the
/// written model, since only constants are written back.
public enum LogitsGraph {
    /// `graph` with a trailing Softmax/LogSoftmax over the class axis bypassed (its input becomes
    /// the first output) when `kind` (nil: read from the graph) says the output is
    /// probabilities or log-probabilities; `graph` unchanged for logits. Throws when `kind` says
    /// probabilities but the graph has no such node to train through.
    public static func logits(_ graph: Graph, kind: OutputKind?) throws(TrainingError) -> Graph {
        let resolved = OutputKind.resolve(kind, graph: graph)
        guard let result = OutputKind.logitsGraph(graph, kind: resolved) else {
            throw TrainingError("the output is taken as \(resolved.rawValue) (--output-kind) but the graph does not end in a Softmax/LogSoftmax over the classes to train through; give --output-kind logits or auto")
        }
        return result
    }

    /// `logits(graph, kind: nil)`: the kind read from the graph, which always has its node.
    public static func strippingFinalSoftmax(_ graph: Graph) -> Graph {
        OutputKind.logitsGraph(graph, kind: OutputKind.detect(graph)) ?? graph
    }
}
