/// The one error shape of the stages that work node by node (Execution, Gradients, Pruning): a
/// message and, when the error belongs to a node, its name (and operator); `description` is the
/// one line the CLI prints, "node NAME: message". `Stage` only keeps the stages' errors apart as
/// types (`ExecutionError`, `GradientError`, `PruningError` are aliases), so a `catch` or an
/// `is` test still tells them apart while the boilerplate exists once.
public struct NodeError<Stage>: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    /// The node's name and operator, when the error belongs to a node.
    public var node: String?

    public init(_ message: String, node: String? = nil) {
        self.message = message
        self.node = node
    }

    public var description: String {
        if let node { return "node \(node): \(message)" }
        return message
    }
}
