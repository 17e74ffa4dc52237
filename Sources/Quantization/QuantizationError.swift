import Support

/// Why an assignment cannot be written as a QDQ model (an opset too old for per-channel scales, a
/// weight that is computed rather than stored, ...). `description` is the one line the CLI prints
/// with exit code 2, naming the layer or tensor and what was expected.
public typealias QuantizationError = NodeError<QuantizationStage>

/// Tags `QuantizationError` as Quantization's (see `NodeError`).
public enum QuantizationStage {}
