extension MessageDecoder {
    /// `AttributeProto`. The value is chosen by `type` (field 20); files that omit it (IR < 2)
    /// get it inferred from the single value field present. Graph, sparse-tensor and type-proto
    /// values are kept opaque, byte for byte.
    mutating func decodeAttribute(_ reader: WireReader, path: String) throws -> ONNXAttribute {
        var reader = reader
        let start = reader.position
        return try inContext(path) {
            var name = ""
            var typeCode: Int32?
            var float: Float?
            var int: Int64?
            var string: [UInt8]?
            var tensor: ONNXTensor?
            var floats: [UInt32] = []
            var ints: [Int64] = []
            var strings: [[UInt8]] = []
            var tensors: [ONNXTensor] = []
            var opaque: [ONNXOpaqueAttribute.Kind: [UInt8]] = [:]
            var present: [Int32] = []

            while let tag = try reader.nextTag() {
                switch tag.number {
                case 1: name = try reader.readString(tag, "name")
                case 2: float = try reader.readFloat(tag, "f"); present.append(1)
                case 3: int = try reader.readInt64(tag, "i"); present.append(2)
                case 4: string = try reader.readBytes(tag, "s"); present.append(3)
                case 5:
                    tensor = try decodeTensor(try reader.readMessage(tag, "t"), path: "\(path).t"); present.append(4)
                case 7: try reader.appendFixed32s(tag, "floats", to: &floats); present.append(6)
                case 8: try reader.appendVarints(tag, "ints", to: &ints); present.append(7)
                case 9: strings.append(try reader.readBytes(tag, "strings")); present.append(8)
                case 10:
                    let element = try reader.readMessage(tag, "tensors")
                    tensors.append(try decodeTensor(element, path: "\(path).tensors[\(tensors.count)]")); present.append(9)
                case 6, 11, 14, 15, 22, 23:
                    let kind = Self.opaqueKind(field: tag.number)
                    _ = try reader.readPayload(tag, kind.rawValue)
                    opaque[kind, default: []].append(contentsOf: reader.bytes[tag.offset..<reader.position])
                    present.append(kind.typeCode)
                case 20: typeCode = try reader.readInt32(tag, "type")
                default: try reader.skip(tag)
                }
            }

            let resolvedType: Int32
            if let typeCode, typeCode != 0 {
                resolvedType = typeCode
            } else {
                guard let inferred = present.last else {
                    throw ONNXError(.malformed, "attribute '\(name)' has neither a type nor a value", offset: start)
                }
                resolvedType = inferred
            }

            let value: ONNXAttribute.Value
            switch resolvedType {
            case 1: value = .float(float ?? 0)
            case 2: value = .int(int ?? 0)
            case 3: value = .string(string ?? [])
            case 4:
                guard let tensor else {
                    throw ONNXError(.malformed, "attribute of type tensor has no t (field 5)", offset: start)
                }
                value = .tensor(tensor)
            case 6: value = .floats(floats.map { Float(bitPattern: $0) })
            case 7: value = .ints(ints)
            case 8: value = .strings(strings)
            case 9: value = .tensors(tensors)
            case 5, 10, 11, 12, 13, 14:
                let kind = Self.opaqueKind(typeCode: resolvedType)
                value = .unsupported(ONNXOpaqueAttribute(kind: kind, encodedFields: opaque[kind] ?? []))
            default:
                throw ONNXError(.unsupported, "attribute type \(resolvedType) is not a known onnx attribute type", offset: start)
            }
            return ONNXAttribute(name: name, value: value)
        }
    }

    private static func opaqueKind(field: Int) -> ONNXOpaqueAttribute.Kind {
        switch field {
        case 6: return .graph
        case 11: return .graphs
        case 14: return .typeProto
        case 15: return .typeProtos
        case 22: return .sparseTensor
        default: return .sparseTensors
        }
    }

    private static func opaqueKind(typeCode: Int32) -> ONNXOpaqueAttribute.Kind {
        switch typeCode {
        case 5: return .graph
        case 10: return .graphs
        case 11: return .sparseTensor
        case 12: return .sparseTensors
        case 13: return .typeProto
        default: return .typeProtos
        }
    }
}
