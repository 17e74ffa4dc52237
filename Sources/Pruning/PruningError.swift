/// Why a set of channels cannot be removed, or a model cannot be rewritten. `description` is
/// the one-line message the CLI prints (exit code 2): the node or tensor, then expected versus got.
public struct PruningError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    /// The ONNX node (name and operator) the error belongs to, if any.
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
