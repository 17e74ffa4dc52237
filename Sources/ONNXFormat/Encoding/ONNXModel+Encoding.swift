extension ONNXModel {
    /// The model as a serialized `ModelProto`, writing every field this library keeps:
    /// `ONNXModel.decode(model.encoded(), ...) == model` for any decoded model. Tensors keep the
    /// field they were read from (`raw_data` or a packed typed field); external data, read at load,
    /// is written inline, so the result must stay under protobuf's 2 GiB.
    public func encoded() -> [UInt8] {
        var w = WireWriter()
        w.int64(1, irVersion)
        w.optionalString(2, producerName)
        w.optionalString(3, producerVersion)
        w.optionalString(4, domain)
        if modelVersion != 0 { w.int64(5, modelVersion) }
        w.optionalString(6, docString)
        w.message(7) { $0.graph(graph) }
        for opset in opsetImports {
            w.message(8) { m in
                if !opset.domain.isEmpty || opset.writesEmptyDomain { m.string(1, opset.domain) }
                m.int64(2, opset.version)
            }
        }
        for entry in metadata { w.message(14) { $0.entry(entry) } }
        return w.bytes
    }
}

extension WireWriter {
    mutating func entry(_ entry: ONNXMetadataEntry) {
        string(1, entry.key)
        string(2, entry.value)
    }

    mutating func graph(_ graph: ONNXGraph) {
        for node in graph.nodes { message(1) { $0.node(node) } }
        optionalString(2, graph.name)
        for tensor in graph.initializers { message(5) { $0.tensor(tensor) } }
        optionalString(10, graph.docString)
        for info in graph.inputs { message(11) { $0.valueInfo(info) } }
        for info in graph.outputs { message(12) { $0.valueInfo(info) } }
        for info in graph.valueInfo { message(13) { $0.valueInfo(info) } }
        for entry in graph.metadata { message(16) { $0.entry(entry) } }
    }

    mutating func node(_ node: ONNXNode) {
        for input in node.inputs { string(1, input) }
        for output in node.outputs { string(2, output) }
        optionalString(3, node.name)
        string(4, node.opType)
        for attribute in node.attributes { message(5) { $0.attribute(attribute) } }
        optionalString(6, node.docString)
        optionalString(7, node.domain)
        for entry in node.metadata { message(9) { $0.entry(entry) } }
    }

    mutating func attribute(_ attribute: ONNXAttribute) {
        string(1, attribute.name)
        let type: Int32
        switch attribute.value {
        case let .float(v): float(2, v); type = 1
        case let .int(v): int64(3, v); type = 2
        case let .string(v): bytesField(4, v); type = 3
        case let .tensor(t): message(5) { $0.tensor(t) }; type = 4
        case let .floats(v): packedFixed32(7, v.map(\.bitPattern)); type = 6
        case let .ints(v): packedVarints(8, v); type = 7
        case let .strings(v): for s in v { bytesField(9, s) }; type = 8
        case let .tensors(v): for t in v { message(10) { $0.tensor(t) } }; type = 9
        case let .unsupported(opaque): verbatim(opaque.encodedFields); type = opaque.kind.typeCode
        }
        int32(20, type)
    }

    mutating func tensor(_ tensor: ONNXTensor) {
        packedVarints(1, tensor.dims.map { Int64($0) })
        int32(2, tensor.dataType.rawValue)
        switch tensor.data {
        case let .raw(v): if !v.isEmpty { bytesField(9, v) }
        case let .floatData(v): packedFixed32(4, v.map(\.bitPattern))
        case let .int32Data(v): packedVarints(5, v.map { Int64($0) })
        case let .int64Data(v): packedVarints(7, v)
        case let .doubleData(v): packedFixed64(10, v.map(\.bitPattern))
        case let .uint64Data(v): packedVarints(11, v.map { Int64(bitPattern: $0) })
        case let .stringData(v): for s in v { bytesField(6, s) }
        }
        optionalString(8, tensor.name)
        optionalString(12, tensor.docString)
    }

    mutating func valueInfo(_ info: ONNXValueInfo) {
        string(1, info.name)
        if info.elementType != nil || info.shape != nil {
            message(2) { type in
                type.message(1) { tensorType in
                    if let elementType = info.elementType { tensorType.int32(1, elementType.rawValue) }
                    if let shape = info.shape {
                        tensorType.message(2) { shapeWriter in
                            for dim in shape {
                                shapeWriter.message(1) { d in
                                    switch dim {
                                    case let .value(v): d.int64(1, Int64(v))
                                    case let .symbolic(s): d.string(2, s)
                                    case .unknown: break
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        optionalString(3, info.docString)
        for entry in info.metadata { message(4) { $0.entry(entry) } }
    }
}
