/// `NodeProto`: one operator application. An empty input name means an omitted optional input.
public struct ONNXNode: Sendable, Equatable {
    public var name: String
    public var opType: String
    /// "" (or "ai.onnx") for standard operators.
    public var domain: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [ONNXAttribute]
    public var docString: String
    public var metadata: [ONNXMetadataEntry]

    public init(
        name: String = "", opType: String, domain: String = "", inputs: [String] = [], outputs: [String] = [],
        attributes: [ONNXAttribute] = [], docString: String = "", metadata: [ONNXMetadataEntry] = []
    ) {
        self.name = name
        self.opType = opType
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
        self.docString = docString
        self.metadata = metadata
    }

    /// The attribute called `name` (the last one if a file repeats it), or nil.
    public func attribute(_ name: String) -> ONNXAttribute? {
        attributes.last { $0.name == name }
    }
}
