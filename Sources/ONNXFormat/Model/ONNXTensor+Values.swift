extension ONNXTensor {
    /// The elements as float32, row-major, converted exactly where float32 can hold them:
    /// float32 (copied), float16 and bfloat16 (exact, including subnormals, inf and NaN), double
    /// (rounded to nearest), and every integer type and bool (rounded to nearest for |v| > 2^24).
    ///
    /// - Throws: `ONNXError` `.unsupported` for string, complex and sub-byte or 8-bit float types;
    ///   `.malformed` when the data does not hold `elementCount` elements.
    public func floats() throws -> [Float] {
        try inContext(contextLabel) {
            let count = try checkedElementCount()
            switch (dataType, data) {
            case let (.float, .raw(raw)):
                return LittleEndianBytes.floats(raw, 0..<raw.count)
            case let (.float, .floatData(values)):
                try requireStored(values.count, count)
                return values
            case let (.float16, .raw(raw)):
                return LittleEndianBytes.scalars(UInt16.self, raw, 0..<raw.count).map(HalfPrecision.float(fromFloat16:))
            case let (.float16, .int32Data(values)):
                try requireStored(values.count, count)
                return values.map { HalfPrecision.float(fromFloat16: UInt16(truncatingIfNeeded: $0)) }
            case let (.bfloat16, .raw(raw)):
                return LittleEndianBytes.scalars(UInt16.self, raw, 0..<raw.count).map(HalfPrecision.float(fromBFloat16:))
            case let (.bfloat16, .int32Data(values)):
                try requireStored(values.count, count)
                return values.map { HalfPrecision.float(fromBFloat16: UInt16(truncatingIfNeeded: $0)) }
            case let (.double, .raw(raw)):
                return LittleEndianBytes.scalars(UInt64.self, raw, 0..<raw.count).map { Float(Double(bitPattern: $0)) }
            case let (.double, .doubleData(values)):
                try requireStored(values.count, count)
                return values.map { Float($0) }
            case (.int8, _), (.uint8, _), (.int16, _), (.uint16, _), (.int32, _), (.uint32, _),
                 (.int64, _), (.uint64, _), (.bool, _):
                if dataType == .uint64 {
                    return try unsignedValues().map { Float($0) }
                }
                return try int64s().map { Float($0) }
            default:
                throw ONNXError(.unsupported, "cannot read \(dataType.label) data stored as \(data.fieldLabel) as float32")
            }
        }
    }

    /// The elements of a double tensor as stored, without rounding: the importer needs them to
    /// decide whether float32 can hold them exactly (`floats()` rounds to nearest).
    ///
    /// - Throws: `ONNXError` `.unsupported` for any other data type; `.malformed` when the data
    ///   does not hold `elementCount` elements.
    public func doubles() throws -> [Double] {
        try inContext(contextLabel) {
            let count = try checkedElementCount()
            switch (dataType, data) {
            case let (.double, .raw(raw)):
                return LittleEndianBytes.scalars(UInt64.self, raw, 0..<raw.count).map(Double.init(bitPattern:))
            case let (.double, .doubleData(values)):
                try requireStored(values.count, count)
                return values
            default:
                throw ONNXError(.unsupported, "cannot read \(dataType.label) data stored as \(data.fieldLabel) as float64")
            }
        }
    }

    /// The elements as int64, row-major: every integer type and bool (0 or 1).
    ///
    /// - Throws: `ONNXError` `.unsupported` for floating-point, string and exotic types;
    ///   `.malformed` when a uint64 value exceeds Int64.max or the data does not hold
    ///   `elementCount` elements.
    public func int64s() throws -> [Int64] {
        try inContext(contextLabel) {
            let count = try checkedElementCount()
            switch (dataType, data) {
            case let (.int8, .raw(raw)): return raw.map { Int64(Int8(bitPattern: $0)) }
            case let (.uint8, .raw(raw)): return raw.map { Int64($0) }
            case let (.bool, .raw(raw)): return raw.map { $0 == 0 ? 0 : 1 }
            case let (.int16, .raw(raw)):
                return LittleEndianBytes.scalars(UInt16.self, raw, 0..<raw.count).map { Int64(Int16(bitPattern: $0)) }
            case let (.uint16, .raw(raw)):
                return LittleEndianBytes.scalars(UInt16.self, raw, 0..<raw.count).map { Int64($0) }
            case let (.int32, .raw(raw)):
                return LittleEndianBytes.scalars(UInt32.self, raw, 0..<raw.count).map { Int64(Int32(bitPattern: $0)) }
            case let (.int64, .raw(raw)):
                return LittleEndianBytes.scalars(Int64.self, raw, 0..<raw.count)
            case let (.int64, .int64Data(values)):
                try requireStored(values.count, count)
                return values
            case let (.int8, .int32Data(values)), let (.uint8, .int32Data(values)), let (.int16, .int32Data(values)),
                 let (.uint16, .int32Data(values)), let (.int32, .int32Data(values)):
                try requireStored(values.count, count)
                return try values.map { value in
                    guard dataType.integerRange.contains(Int64(value)) else {
                        throw ONNXError(.malformed, "value \(value) out of \(dataType.label) range")
                    }
                    return Int64(value)
                }
            case let (.bool, .int32Data(values)):
                try requireStored(values.count, count)
                return values.map { $0 == 0 ? 0 : 1 }
            case (.uint32, _), (.uint64, _):
                return try unsignedValues().map { value in
                    guard value <= UInt64(Int64.max) else {
                        throw ONNXError(.malformed, "value \(value) does not fit in int64")
                    }
                    return Int64(value)
                }
            default:
                throw ONNXError(.unsupported, "cannot read \(dataType.label) data stored as \(data.fieldLabel) as int64")
            }
        }
    }

    /// uint32 and uint64 elements as UInt64.
    private func unsignedValues() throws -> [UInt64] {
        let count = try checkedElementCount()
        switch (dataType, data) {
        case let (.uint32, .raw(raw)): return LittleEndianBytes.scalars(UInt32.self, raw, 0..<raw.count).map { UInt64($0) }
        case let (.uint64, .raw(raw)): return LittleEndianBytes.scalars(UInt64.self, raw, 0..<raw.count)
        case let (.uint32, .uint64Data(values)), let (.uint64, .uint64Data(values)):
            try requireStored(values.count, count)
            if dataType == .uint32, let bad = values.first(where: { $0 > UInt64(UInt32.max) }) {
                throw ONNXError(.malformed, "value \(bad) out of uint32 range")
            }
            return values
        default:
            throw ONNXError(.unsupported, "cannot read \(dataType.label) data stored as \(data.fieldLabel) as integers")
        }
    }

    /// The element count, after checking that the data holds exactly that many elements.
    func checkedElementCount() throws -> Int {
        var count = 1
        for d in dims {
            guard d >= 0 else { throw ONNXError(.malformed, "negative dim \(d) in dims \(dims)") }
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw ONNXError(.malformed, "element count of dims \(dims) overflows") }
            count = product
        }
        if case let .raw(raw) = data {
            guard let expected = dataType.rawByteCount(elements: count) else {
                throw ONNXError(.malformed, "\(dataType.label) tensor cannot use raw_data")
            }
            guard raw.count == expected else {
                throw ONNXError(.malformed, "raw_data holds \(raw.count) bytes, dims \(dims) of \(dataType.label) need \(expected)")
            }
        }
        return count
    }

    private func requireStored(_ stored: Int, _ expected: Int) throws {
        guard stored == expected else {
            throw ONNXError(.malformed, "\(data.fieldLabel) holds \(stored) values, dims \(dims) need \(expected)")
        }
    }

    var contextLabel: String { "tensor '\(name)'" }
}

extension ONNXTensorData {
    /// The TensorProto field name, for messages.
    var fieldLabel: String {
        switch self {
        case .raw: return "raw_data"
        case .floatData: return "float_data"
        case .int32Data: return "int32_data"
        case .int64Data: return "int64_data"
        case .doubleData: return "double_data"
        case .uint64Data: return "uint64_data"
        case .stringData: return "string_data"
        }
    }
}

extension ONNXDataType {
    /// Value range of the small integer types carried in `int32_data`.
    var integerRange: ClosedRange<Int64> {
        switch self {
        case .int8: return -128...127
        case .uint8: return 0...255
        case .int16: return -32768...32767
        case .uint16: return 0...65535
        default: return Int64(Int32.min)...Int64(Int32.max)
        }
    }
}
