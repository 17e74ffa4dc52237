import NetworkIR

/// An error while running a graph: a tensor that does not fit a node at run time (wrong input
/// shape, a batch size the graph cannot take). `description` names the node.
public struct ExecutionError: Error, CustomStringConvertible, Sendable {
    public var message: String
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
