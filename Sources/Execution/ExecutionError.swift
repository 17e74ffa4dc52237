import Support

/// An error while running a graph: a tensor that does not fit a node at run time (wrong input
/// shape, a batch size the graph cannot take). `description` names the node.
public typealias ExecutionError = NodeError<ExecutionStage>

/// Tags `ExecutionError` as Execution's (see `NodeError`).
public enum ExecutionStage {}
