/// Decodes ONNX messages from the protobuf wire format, one small function per message.
///
/// Unknown fields are skipped by wire type; known fields with the wrong wire type are refused.
/// Every error carries the message path (`graph.node[12] 'conv1'.attribute 'pads'`) and a byte
/// offset. Running totals (external bytes read, declared initializer bytes) live here.
struct MessageDecoder {
    let limits: ONNXLimits
    var externalData: ExternalDataReader
    /// Bytes of the model file; with `externalData.bytesRead`, the bytes that back the initializers.
    let fileByteCount: Int
    /// Sum over initializers of the bytes their dims and type declare.
    var declaredInitializerBytes: Double = 0

    // MARK: ModelProto

    mutating func decodeModel(_ reader: WireReader) throws -> ONNXModel {
        var reader = reader
        var model = ONNXModel(irVersion: 0, opsetImports: [], graph: ONNXGraph())
        var sawGraph = false
        try inContext("model") {
            while let tag = try reader.nextTag() {
                switch tag.number {
                case 1: model.irVersion = try reader.readInt64(tag, "ir_version")
                case 2: model.producerName = try reader.readString(tag, "producer_name")
                case 3: model.producerVersion = try reader.readString(tag, "producer_version")
                case 4: model.domain = try reader.readString(tag, "domain")
                case 5: model.modelVersion = try reader.readInt64(tag, "model_version")
                case 6: model.docString = try reader.readString(tag, "doc_string")
                case 7:
                    model.graph = try decodeGraph(try reader.readMessage(tag, "graph"), path: "graph")
                    sawGraph = true
                case 8:
                    let path = "model.opset_import[\(model.opsetImports.count)]"
                    model.opsetImports.append(try decodeOpset(try reader.readMessage(tag, "opset_import"), path: path))
                case 14:
                    let path = "model.metadata_props[\(model.metadata.count)]"
                    model.metadata.append(try decodeEntry(try reader.readMessage(tag, "metadata_props"), path: path))
                default: try reader.skip(tag)
                }
            }
            guard sawGraph else { throw ONNXError(.malformed, "the file decodes as protobuf but has no graph (field 7): it is not an ONNX model (ModelProto)") }
            // IR version 3 and later must import at least the default operator set.
            guard model.irVersion < 3 || !model.opsetImports.isEmpty else {
                throw ONNXError(.malformed, "model of ir_version \(model.irVersion) imports no operator set (opset_import, field 8)")
            }
        }
        return model
    }

    func decodeOpset(_ reader: WireReader, path: String) throws -> ONNXOpsetID {
        var reader = reader
        var opset = ONNXOpsetID(domain: "", version: 0)
        try inContext(path) {
            while let tag = try reader.nextTag() {
                switch tag.number {
                case 1:
                    opset.domain = try reader.readString(tag, "domain")
                    opset.writesEmptyDomain = opset.domain.isEmpty
                case 2: opset.version = try reader.readInt64(tag, "version")
                default: try reader.skip(tag)
                }
            }
        }
        return opset
    }

    func decodeEntry(_ reader: WireReader, path: String) throws -> ONNXMetadataEntry {
        var reader = reader
        var entry = ONNXMetadataEntry(key: "", value: "")
        try inContext(path) {
            while let tag = try reader.nextTag() {
                switch tag.number {
                case 1: entry.key = try reader.readString(tag, "key")
                case 2: entry.value = try reader.readString(tag, "value")
                default: try reader.skip(tag)
                }
            }
        }
        return entry
    }

    // MARK: GraphProto

    mutating func decodeGraph(_ reader: WireReader, path: String) throws -> ONNXGraph {
        var reader = reader
        var graph = ONNXGraph()
        try inContext(path) {
            while let tag = try reader.nextTag() {
                switch tag.number {
                case 1:
                    let node = try reader.readMessage(tag, "node")
                    let label = Self.label(node, nameField: 3, fallbackField: 4)
                    graph.nodes.append(try decodeNode(node, path: "\(path).node[\(graph.nodes.count)]\(label)"))
                case 2: graph.name = try reader.readString(tag, "name")
                case 5:
                    let tensor = try reader.readMessage(tag, "initializer")
                    let tensorPath = "\(path).initializer[\(graph.initializers.count)]\(Self.label(tensor, nameField: 8))"
                    let decoded = try decodeTensor(tensor, path: tensorPath)
                    try accountInitializer(decoded, offset: tag.offset, path: tensorPath)
                    graph.initializers.append(decoded)
                case 10: graph.docString = try reader.readString(tag, "doc_string")
                case 11:
                    let info = try reader.readMessage(tag, "input")
                    graph.inputs.append(try decodeValueInfo(info, path: "\(path).input[\(graph.inputs.count)]\(Self.label(info, nameField: 1))"))
                case 12:
                    let info = try reader.readMessage(tag, "output")
                    graph.outputs.append(try decodeValueInfo(info, path: "\(path).output[\(graph.outputs.count)]\(Self.label(info, nameField: 1))"))
                case 13:
                    let info = try reader.readMessage(tag, "value_info")
                    graph.valueInfo.append(try decodeValueInfo(info, path: "\(path).value_info[\(graph.valueInfo.count)]\(Self.label(info, nameField: 1))"))
                case 15:
                    _ = try reader.readMessage(tag, "sparse_initializer")
                    throw ONNXError(.unsupported, "sparse initializers are not supported (convert them to dense initializers)",
                                    offset: tag.offset, context: "\(path).sparse_initializer")
                case 16:
                    graph.metadata.append(try decodeEntry(try reader.readMessage(tag, "metadata_props"), path: "\(path).metadata_props[\(graph.metadata.count)]"))
                default: try reader.skip(tag)
                }
            }
        }
        return graph
    }

    /// Adds an initializer's declared size to the running total and refuses the total once it
    /// exceeds `maxTotalInitializerBytesRatio` times the bytes that back it.
    private mutating func accountInitializer(_ tensor: ONNXTensor, offset: Int, path: String) throws {
        let declared: Double
        if case let .stringData(strings) = tensor.data {
            declared = Double(strings.reduce(0) { $0 + $1.count })
        } else {
            declared = Double(tensor.dataType.rawByteCount(elements: tensor.elementCount) ?? 0)
        }
        declaredInitializerBytes += declared
        let backing = Double(fileByteCount) + Double(externalData.bytesRead)
        let ratio = limits.maxTotalInitializerBytesRatio
        guard declaredInitializerBytes <= ratio * backing else {
            throw ONNXError(.limitExceeded,
                            "initializers declare \(Int(declaredInitializerBytes)) bytes, more than \(ratio) times the \(Int(backing)) bytes of the file and its external data (raise with --max-initializer-bytes-ratio)",
                            offset: offset, context: path)
        }
    }

    // MARK: NodeProto

    mutating func decodeNode(_ reader: WireReader, path: String) throws -> ONNXNode {
        var reader = reader
        var node = ONNXNode(opType: "")
        try inContext(path) {
            while let tag = try reader.nextTag() {
                switch tag.number {
                case 1: node.inputs.append(try reader.readString(tag, "input"))
                case 2: node.outputs.append(try reader.readString(tag, "output"))
                case 3: node.name = try reader.readString(tag, "name")
                case 4: node.opType = try reader.readString(tag, "op_type")
                case 5:
                    let attribute = try reader.readMessage(tag, "attribute")
                    let name = attribute.peekString(field: 1).map { " '\($0)'" } ?? "[\(node.attributes.count)]"
                    node.attributes.append(try decodeAttribute(attribute, path: "\(path).attribute\(name)"))
                case 6: node.docString = try reader.readString(tag, "doc_string")
                case 7: node.domain = try reader.readString(tag, "domain")
                case 9:
                    node.metadata.append(try decodeEntry(try reader.readMessage(tag, "metadata_props"), path: "\(path).metadata_props[\(node.metadata.count)]"))
                default: try reader.skip(tag)
                }
            }
        }
        return node
    }

    // MARK: ValueInfoProto, TypeProto, TensorShapeProto

    func decodeValueInfo(_ reader: WireReader, path: String) throws -> ONNXValueInfo {
        var reader = reader
        var info = ONNXValueInfo(name: "")
        try inContext(path) {
            while let tag = try reader.nextTag() {
                switch tag.number {
                case 1: info.name = try reader.readString(tag, "name")
                case 2: (info.elementType, info.shape) = try decodeType(try reader.readMessage(tag, "type"))
                case 3: info.docString = try reader.readString(tag, "doc_string")
                case 4:
                    info.metadata.append(try decodeEntry(try reader.readMessage(tag, "metadata_props"), path: "\(path).metadata_props[\(info.metadata.count)]"))
                default: try reader.skip(tag)
                }
            }
        }
        return info
    }

    /// `TypeProto`: only `tensor_type` (field 1) is described; other kinds give (nil, nil).
    private func decodeType(_ reader: WireReader) throws -> (ONNXDataType?, [ONNXDimension]?) {
        var reader = reader
        var result: (ONNXDataType?, [ONNXDimension]?) = (nil, nil)
        while let tag = try reader.nextTag() {
            guard tag.number == 1 else { try reader.skip(tag); continue }
            var tensorType = try reader.readMessage(tag, "tensor_type")
            while let inner = try tensorType.nextTag() {
                switch inner.number {
                case 1:
                    let code = try tensorType.readInt32(inner, "elem_type")
                    guard let type = ONNXDataType(rawValue: code) else {
                        throw ONNXError(.unsupported, "elem_type \(code) is not a known onnx data type", offset: inner.offset)
                    }
                    result.0 = type
                case 2: result.1 = try decodeShape(try tensorType.readMessage(inner, "shape"))
                default: try tensorType.skip(inner)
                }
            }
        }
        return result
    }

    private func decodeShape(_ reader: WireReader) throws -> [ONNXDimension] {
        var reader = reader
        var dims: [ONNXDimension] = []
        while let tag = try reader.nextTag() {
            guard tag.number == 1 else { try reader.skip(tag); continue }
            var dimReader = try reader.readMessage(tag, "dim")
            var dim = ONNXDimension.unknown
            while let inner = try dimReader.nextTag() {
                switch inner.number {
                case 1:
                    let value = try dimReader.readInt64(inner, "dim_value")
                    dim = value >= 0 ? Int(exactly: value).map(ONNXDimension.value) ?? .unknown : .unknown
                case 2: dim = .symbolic(try dimReader.readString(inner, "dim_param"))
                default: try dimReader.skip(inner)
                }
            }
            dims.append(dim)
        }
        return dims
    }

    // MARK: Naming

    /// " 'name'" from a string field of a not-yet-decoded message, " (OpType)" from the fallback
    /// field when the name is empty, or "".
    static func label(_ reader: WireReader, nameField: Int, fallbackField: Int? = nil) -> String {
        if let name = reader.peekString(field: nameField), !name.isEmpty { return " '\(name)'" }
        if let fallbackField, let other = reader.peekString(field: fallbackField), !other.isEmpty { return " (\(other))" }
        return ""
    }
}
