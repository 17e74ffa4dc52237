/// An error found while importing or checking a graph. `description` is the one-line message
/// the CLI prints (exit code 2): the node, then expected versus got.
public struct GraphError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case unsupportedOperator, attribute, shape, structure, input }
    public var kind: Kind
    public var message: String
    /// The node's name and operator when the error belongs to a node.
    public var node: String?

    public init(_ kind: Kind, _ message: String, node: String? = nil) {
        self.kind = kind
        self.message = message
        self.node = node
    }

    public var description: String {
        if let node { return "node \(node): \(message)" }
        return message
    }

    func at(_ node: String) -> GraphError {
        var copy = self
        if copy.node == nil { copy.node = node }
        return copy
    }
}
