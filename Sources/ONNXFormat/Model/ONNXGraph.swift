/// `GraphProto`: nodes in the file's order (ONNX requires a topological order, not checked here),
/// constant tensors, and the declared inputs, outputs and intermediate value types.
public struct ONNXGraph: Sendable, Equatable {
    public var name: String
    public var nodes: [ONNXNode]
    public var initializers: [ONNXTensor]
    /// Graph inputs; since IR version 4 they may or may not repeat the initializers.
    public var inputs: [ONNXValueInfo]
    public var outputs: [ONNXValueInfo]
    public var valueInfo: [ONNXValueInfo]
    public var docString: String
    public var metadata: [ONNXMetadataEntry]

    public init(
        name: String = "", nodes: [ONNXNode] = [], initializers: [ONNXTensor] = [],
        inputs: [ONNXValueInfo] = [], outputs: [ONNXValueInfo] = [], valueInfo: [ONNXValueInfo] = [],
        docString: String = "", metadata: [ONNXMetadataEntry] = []
    ) {
        self.name = name
        self.nodes = nodes
        self.initializers = initializers
        self.inputs = inputs
        self.outputs = outputs
        self.valueInfo = valueInfo
        self.docString = docString
        self.metadata = metadata
    }

    /// The initializer called `name`, if any (linear search; build a dictionary for repeated lookups).
    public func initializer(named name: String) -> ONNXTensor? {
        initializers.first { $0.name == name }
    }
}
