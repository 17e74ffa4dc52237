/// `ModelProto`: an ONNX model as this reader keeps it.
///
/// Kept: the fields below. Dropped on read (and so absent from `encoded()`): training info,
/// functions, device configurations. Refused on read: sparse initializers.
public struct ONNXModel: Sendable, Equatable {
    public var irVersion: Int64
    public var opsetImports: [ONNXOpsetID]
    public var producerName: String
    public var producerVersion: String
    public var domain: String
    public var modelVersion: Int64
    public var docString: String
    public var graph: ONNXGraph
    public var metadata: [ONNXMetadataEntry]

    public init(
        irVersion: Int64 = 8, opsetImports: [ONNXOpsetID] = [ONNXOpsetID(domain: "", version: 17)],
        producerName: String = "", producerVersion: String = "", domain: String = "",
        modelVersion: Int64 = 0, docString: String = "", graph: ONNXGraph, metadata: [ONNXMetadataEntry] = []
    ) {
        self.irVersion = irVersion
        self.opsetImports = opsetImports
        self.producerName = producerName
        self.producerVersion = producerVersion
        self.domain = domain
        self.modelVersion = modelVersion
        self.docString = docString
        self.graph = graph
        self.metadata = metadata
    }

    /// The opset version imported for `domain` ("" and "ai.onnx" both mean the default domain);
    /// nil when the model does not import it.
    public func opsetVersion(domain: String = "") -> Int64? {
        let wanted = domain == "ai.onnx" ? "" : domain
        return opsetImports.last { ($0.domain == "ai.onnx" ? "" : $0.domain) == wanted }?.version
    }
}

/// `OperatorSetIdProto`: an imported operator set. Equality compares domain and version.
public struct ONNXOpsetID: Sendable, Equatable {
    /// "" (or "ai.onnx") is the default operator set.
    public var domain: String
    public var version: Int64
    /// Whether an empty domain was written explicitly in the file (the torch.export-based exporter
    /// does, the TorchScript one does not); kept so that re-encoding gives the same message.
    var writesEmptyDomain = false

    public init(domain: String, version: Int64) {
        self.domain = domain
        self.version = version
    }

    public static func == (a: ONNXOpsetID, b: ONNXOpsetID) -> Bool {
        a.domain == b.domain && a.version == b.version
    }
}

/// `StringStringEntryProto`: one key/value pair of metadata or external-data information.
public struct ONNXMetadataEntry: Sendable, Equatable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}
