/// `ValueInfoProto`: the declared type of a graph input, output or intermediate value.
///
/// Only tensor types are described; for sequence, map, optional or sparse types `elementType`
/// and `shape` are nil (and the writer omits the type).
public struct ONNXValueInfo: Sendable, Equatable {
    public var name: String
    /// `elem_type` of a tensor type, nil when absent.
    public var elementType: ONNXDataType?
    /// The dims, outermost first; nil when the rank is unknown (no shape given).
    public var shape: [ONNXDimension]?
    public var docString: String
    /// `metadata_props` (exporters record provenance here, e.g. the original PyTorch name).
    public var metadata: [ONNXMetadataEntry]

    public init(name: String, elementType: ONNXDataType? = nil, shape: [ONNXDimension]? = nil, docString: String = "",
                metadata: [ONNXMetadataEntry] = []) {
        self.name = name
        self.elementType = elementType
        self.shape = shape
        self.docString = docString
        self.metadata = metadata
    }
}

/// `TensorShapeProto.Dimension`.
public enum ONNXDimension: Sendable, Equatable, CustomStringConvertible {
    /// A fixed size, >= 0.
    case value(Int)
    /// A named size such as "batch".
    case symbolic(String)
    /// Neither given (or a negative `dim_value`, which some exporters write for "unknown").
    case unknown

    public var description: String {
        switch self {
        case let .value(v): return "\(v)"
        case let .symbolic(s): return s
        case .unknown: return "?"
        }
    }
}
