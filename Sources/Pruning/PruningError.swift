import Support

/// Why a set of channels cannot be removed, or a model cannot be rewritten. `description` is
/// the one-line message the CLI prints (exit code 2): the node or tensor, then expected versus got.
public typealias PruningError = NodeError<PruningStage>

/// Tags `PruningError` as Pruning's (see `NodeError`).
public enum PruningStage {}
