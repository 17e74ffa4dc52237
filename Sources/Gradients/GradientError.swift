import Support

/// An error while differentiating a graph: an operator or operand form the backward pass does not
/// cover, or a loss whose labels do not fit the logits. `description` names the node.
public typealias GradientError = NodeError<GradientStage>

/// Tags `GradientError` as Gradients' (see `NodeError`).
public enum GradientStage {}
