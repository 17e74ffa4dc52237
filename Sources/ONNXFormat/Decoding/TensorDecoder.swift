extension MessageDecoder {
    /// `TensorProto`. Checks, in this order and before copying any data: the data type is known,
    /// dims are non-negative, their product fits `maxTensorElements`, exactly one data field is
    /// used, it is the field ONNX assigns to the type, and it holds exactly the declared elements
    /// (or bytes, for `raw_data` and external data).
    mutating func decodeTensor(_ reader: WireReader, path: String) throws -> ONNXTensor {
        var reader = reader
        let start = reader.position
        return try inContext(path) {
            var fields = TensorFields()
            while let tag = try reader.nextTag() {
                switch tag.number {
                case 1: try reader.appendVarints(tag, "dims", to: &fields.dims)
                case 2: fields.dataTypeCode = try reader.readInt32(tag, "data_type")
                case 3:
                    throw ONNXError(.unsupported, "segmented tensors are not supported", offset: tag.offset)
                case 4: try reader.appendFixed32s(tag, "float_data", to: &fields.floatBits)
                case 5: try reader.appendVarints(tag, "int32_data", to: &fields.int32Data)
                case 6: fields.stringData.append(try reader.readBytes(tag, "string_data"))
                case 7: try reader.appendVarints(tag, "int64_data", to: &fields.int64Data)
                case 8: fields.name = try reader.readString(tag, "name")
                case 9: fields.raw = try reader.readPayload(tag, "raw_data")
                case 10: try reader.appendFixed64s(tag, "double_data", to: &fields.doubleBits)
                case 11: try reader.appendVarints(tag, "uint64_data", to: &fields.uint64Data)
                case 12: fields.docString = try reader.readString(tag, "doc_string")
                case 13:
                    let entry = try reader.readMessage(tag, "external_data")
                    fields.external.append(try decodeEntry(entry, path: "\(path).external_data[\(fields.external.count)]"))
                case 14: fields.dataLocation = try reader.readInt32(tag, "data_location")
                default: try reader.skip(tag)
                }
            }
            do {
                return try makeTensor(fields, bytes: reader.bytes)
            } catch var error as ONNXError {
                if error.offset == nil { error.offset = start }
                throw error
            }
        }
    }

    private mutating func makeTensor(_ fields: TensorFields, bytes: [UInt8]) throws -> ONNXTensor {
        guard let dataType = ONNXDataType(rawValue: fields.dataTypeCode) else {
            throw ONNXError(.unsupported, "data_type \(fields.dataTypeCode) is not a known onnx data type")
        }
        guard dataType != .undefined else {
            throw ONNXError(.malformed, "tensor has no data_type")
        }
        let count = try checkedElementCount(fields.dims)
        var dims: [Int] = []
        dims.reserveCapacity(fields.dims.count)
        for d in fields.dims { dims.append(Int(d)) }

        let typed = fields.typedFieldsPresent
        if fields.dataLocation == 1 {
            guard typed.isEmpty, fields.raw == nil else {
                throw ONNXError(.malformed, "tensor with external data also stores \((typed + (fields.raw == nil ? [] : ["raw_data"])).joined(separator: ", "))")
            }
            guard let byteCount = dataType.rawByteCount(elements: count) else {
                throw ONNXError(.unsupported, "\(dataType.label) tensors cannot use external data")
            }
            let raw = try externalData.read(entries: fields.external, expectedByteCount: byteCount)
            return ONNXTensor(name: fields.name, dataType: dataType, dims: dims, data: .raw(raw), docString: fields.docString)
        }
        guard fields.dataLocation == 0 else {
            throw ONNXError(.malformed, "data_location \(fields.dataLocation) is neither 0 (default) nor 1 (external)")
        }

        let present = typed + (fields.raw == nil ? [] : ["raw_data"])
        guard present.count <= 1 else {
            throw ONNXError(.malformed, "tensor stores data in more than one field: \(present.joined(separator: ", "))")
        }
        if let raw = fields.raw {
            guard let expected = dataType.rawByteCount(elements: count) else {
                throw ONNXError(.malformed, "\(dataType.label) tensor cannot use raw_data")
            }
            guard raw.count == expected else {
                throw ONNXError(.malformed, "raw_data holds \(raw.count) bytes, dims \(dims) of \(dataType.label) need \(expected)")
            }
            return ONNXTensor(name: fields.name, dataType: dataType, dims: dims, data: .raw(Array(bytes[raw])), docString: fields.docString)
        }
        let data = try typedData(fields, dataType: dataType, count: count)
        return ONNXTensor(name: fields.name, dataType: dataType, dims: dims, data: data, docString: fields.docString)
    }

    /// Product of `dims`, refusing negative dims, overflow and counts above the limit.
    private func checkedElementCount(_ dims: [Int64]) throws -> Int {
        var count: Int64 = 1
        var overflowed = false
        for d in dims {
            guard d >= 0 else { throw ONNXError(.malformed, "negative dim \(d) in dims \(dims)") }
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            if overflow { overflowed = true } else { count = product }
        }
        if dims.contains(0) { return 0 }
        let limit = limits.maxTensorElements
        guard !overflowed else {
            throw ONNXError(.limitExceeded, "tensor dims \(dims) declare more than \(Int64.max) elements, limit \(limit) (raise with --max-tensor-elements)")
        }
        guard count <= Int64(limit) else {
            throw ONNXError(.limitExceeded, "tensor declares \(count) elements, limit \(limit) (raise with --max-tensor-elements)")
        }
        return Int(count)
    }

    /// The typed field ONNX assigns to `dataType`, checked against the element count.
    private func typedData(_ fields: TensorFields, dataType: ONNXDataType, count: Int) throws -> ONNXTensorData {
        let field = fields.typedFieldsPresent.first
        if field == nil {
            guard count == 0 else {
                throw ONNXError(.malformed, "tensor declares \(count) elements of \(dataType.label) but stores no data")
            }
            return dataType == .string ? .stringData([]) : .raw([])
        }
        let data: ONNXTensorData
        let expected: Int?
        switch dataType {
        case .float:
            data = .floatData(fields.floatBits.map { Float(bitPattern: $0) }); expected = count
        case .complex64:
            data = .floatData(fields.floatBits.map { Float(bitPattern: $0) }); expected = nil
        case .int32, .int16, .int8, .uint16, .uint8, .bool, .float16, .bfloat16:
            data = .int32Data(fields.int32Data.map { Int32(truncatingIfNeeded: $0) }); expected = count
        case .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float8e8m0,
             .uint4, .int4, .float4e2m1, .uint2, .int2, .float6e2m3, .float6e3m2:
            data = .int32Data(fields.int32Data.map { Int32(truncatingIfNeeded: $0) }); expected = nil
        case .int64:
            data = .int64Data(fields.int64Data); expected = count
        case .double:
            data = .doubleData(fields.doubleBits.map { Double(bitPattern: $0) }); expected = count
        case .complex128:
            data = .doubleData(fields.doubleBits.map { Double(bitPattern: $0) }); expected = nil
        case .uint32, .uint64:
            data = .uint64Data(fields.uint64Data.map { UInt64(bitPattern: $0) }); expected = count
        case .string:
            data = .stringData(fields.stringData); expected = count
        case .undefined:
            throw ONNXError(.malformed, "tensor has no data_type")
        }
        guard data.fieldLabel == field else {
            throw ONNXError(.malformed, "\(dataType.label) tensor stores its data in \(field ?? "?"), expected \(data.fieldLabel)")
        }
        if let expected, data.storedCount != expected {
            throw ONNXError(.malformed, "\(data.fieldLabel) holds \(data.storedCount) values, dims \(fields.dims) need \(expected)")
        }
        return data
    }
}

/// The raw fields of one `TensorProto`, gathered before any check.
struct TensorFields {
    var dims: [Int64] = []
    var dataTypeCode: Int32 = 0
    var floatBits: [UInt32] = []
    var int32Data: [Int64] = []
    var stringData: [[UInt8]] = []
    var int64Data: [Int64] = []
    var name = ""
    var raw: Range<Int>?
    var doubleBits: [UInt64] = []
    var uint64Data: [Int64] = []
    var docString = ""
    var external: [ONNXMetadataEntry] = []
    var dataLocation: Int32 = 0

    /// Names of the non-empty typed data fields.
    var typedFieldsPresent: [String] {
        var names: [String] = []
        if !floatBits.isEmpty { names.append("float_data") }
        if !int32Data.isEmpty { names.append("int32_data") }
        if !stringData.isEmpty { names.append("string_data") }
        if !int64Data.isEmpty { names.append("int64_data") }
        if !doubleBits.isEmpty { names.append("double_data") }
        if !uint64Data.isEmpty { names.append("uint64_data") }
        return names
    }
}
