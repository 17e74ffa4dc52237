/// An error while differentiating a graph: an operator or operand form the backward pass does not
/// cover, or a loss whose labels do not fit the logits. `description` names the node.
public struct GradientError: Error, CustomStringConvertible, Sendable {
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
