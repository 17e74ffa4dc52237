/// Reads the protobuf wire format from a window `[position, end)` of a byte array.
///
/// Every read checks bounds first and throws `ONNXError` (`truncated` or `malformed`) with the
/// absolute byte offset, so hostile input can never trap. Sub-messages are read by sub-readers that
/// share the same array (no copy); only field payloads that are kept are copied, each in one piece.
struct WireReader {
    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int
    let limits: ONNXLimits

    init(bytes: [UInt8], range: Range<Int>, limits: ONNXLimits) {
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
        self.limits = limits
    }

    var isAtEnd: Bool { position >= end }

    /// A reader over a payload range returned by `readLengthDelimited`.
    func subReader(_ range: Range<Int>) -> WireReader {
        WireReader(bytes: bytes, range: range, limits: limits)
    }

    // MARK: Keys and scalars

    /// The next field key, or nil at the end of the window.
    mutating func nextTag() throws -> WireTag? {
        guard position < end else { return nil }
        let offset = position
        let key = try readVarint()
        let rawType = UInt8(truncatingIfNeeded: key & 7)
        let number = key >> 3
        guard let type = WireType(rawValue: rawType) else {
            throw ONNXError(.malformed, "invalid wire type \(rawType) in field key", offset: offset)
        }
        guard number >= 1, number <= 536_870_911 else {
            throw ONNXError(.malformed, "invalid field number \(number)", offset: offset)
        }
        return WireTag(number: Int(number), type: type, offset: offset)
    }

    /// A base-128 varint of at most 10 bytes whose value fits in 64 bits.
    mutating func readVarint() throws -> UInt64 {
        let start = position
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else {
                throw ONNXError(.truncated, "varint runs past the end of its message", offset: start)
            }
            let byte = bytes[position]
            position += 1
            if shift == 63 {
                // Tenth byte: only the lowest bit still fits in 64 bits.
                if byte & 0x80 != 0 {
                    throw ONNXError(.malformed, "varint longer than 10 bytes", offset: start)
                }
                if byte > 1 {
                    throw ONNXError(.malformed, "varint overflows 64 bits", offset: start)
                }
            }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func readFixed32() throws -> UInt32 {
        guard end - position >= 4 else {
            throw ONNXError(.truncated, "fixed32 needs 4 bytes, \(end - position) left", offset: position)
        }
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(bytes[position + i]) << (8 * UInt32(i)) }
        position += 4
        return value
    }

    mutating func readFixed64() throws -> UInt64 {
        guard end - position >= 8 else {
            throw ONNXError(.truncated, "fixed64 needs 8 bytes, \(end - position) left", offset: position)
        }
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += 8
        return value
    }

    /// The payload range of a length-delimited field (the reader moves past it).
    mutating func readLengthDelimited() throws -> Range<Int> {
        let start = position
        let length = try readVarint()
        let available = end - position
        guard length <= UInt64(available) else {
            throw ONNXError(.truncated, "length \(length) runs past the end of its message (\(available) bytes left)", offset: start)
        }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }

    // MARK: Skipping

    /// Skips the value of a field this reader does not keep, whatever its wire type. Groups are
    /// skipped iteratively; their nesting is bounded by `limits.maxNestingDepth`.
    mutating func skip(_ tag: WireTag) throws {
        switch tag.type {
        case .varint: _ = try readVarint()
        case .fixed64: _ = try readFixed64()
        case .fixed32: _ = try readFixed32()
        case .lengthDelimited: _ = try readLengthDelimited()
        case .endGroup:
            throw ONNXError(.malformed, "end-group for field \(tag.number) without a matching start-group", offset: tag.offset)
        case .startGroup:
            var open: [Int] = [tag.number]
            while let last = open.last {
                guard let inner = try nextTag() else {
                    throw ONNXError(.truncated, "group for field \(last) is not closed", offset: tag.offset)
                }
                switch inner.type {
                case .startGroup:
                    guard open.count < limits.maxNestingDepth else {
                        throw ONNXError(.limitExceeded, "groups nested deeper than \(limits.maxNestingDepth) (raise with --max-nesting-depth)", offset: inner.offset)
                    }
                    open.append(inner.number)
                case .endGroup:
                    guard inner.number == last else {
                        throw ONNXError(.malformed, "end-group for field \(inner.number) closes group \(last)", offset: inner.offset)
                    }
                    open.removeLast()
                default:
                    try skip(inner)
                }
            }
        }
    }

    // MARK: Typed fields of known messages

    /// Throws unless `tag` has the wire type the schema gives field `name`.
    func expect(_ tag: WireTag, _ type: WireType, _ name: String) throws {
        guard tag.type == type else {
            throw ONNXError(.malformed, "field \(tag.number) '\(name)': expected wire type \(type.label), got \(tag.type.label)", offset: tag.offset)
        }
    }

    mutating func readInt64(_ tag: WireTag, _ name: String) throws -> Int64 {
        try expect(tag, .varint, name)
        return Int64(bitPattern: try readVarint())
    }

    /// An `int32` or enum field: protobuf sign-extends negatives to 64 bits; the low 32 bits are the value.
    mutating func readInt32(_ tag: WireTag, _ name: String) throws -> Int32 {
        try expect(tag, .varint, name)
        return Int32(truncatingIfNeeded: try readVarint())
    }

    mutating func readFloat(_ tag: WireTag, _ name: String) throws -> Float {
        try expect(tag, .fixed32, name)
        return Float(bitPattern: try readFixed32())
    }

    /// A length-delimited payload range, refused when longer than `limit` bytes.
    mutating func readPayload(_ tag: WireTag, _ name: String, limit: Int? = nil) throws -> Range<Int> {
        try expect(tag, .lengthDelimited, name)
        let range: Range<Int>
        do {
            range = try readLengthDelimited()
        } catch var error as ONNXError {
            error.message = "field \(tag.number) '\(name)': " + error.message
            throw error
        }
        if let limit, range.count > limit {
            throw ONNXError(.limitExceeded, "field '\(name)' holds \(range.count) bytes, limit \(limit) (raise with --max-string-bytes)", offset: tag.offset)
        }
        return range
    }

    /// A `string` field, decoded as UTF-8 (invalid sequences become U+FFFD).
    mutating func readString(_ tag: WireTag, _ name: String) throws -> String {
        let range = try readPayload(tag, name, limit: limits.maxStringBytes)
        return String(decoding: bytes[range], as: UTF8.self)
    }

    /// A `bytes` field, copied.
    mutating func readBytes(_ tag: WireTag, _ name: String) throws -> [UInt8] {
        let range = try readPayload(tag, name, limit: limits.maxStringBytes)
        return Array(bytes[range])
    }

    /// A sub-message: a reader over its payload.
    mutating func readMessage(_ tag: WireTag, _ name: String) throws -> WireReader {
        subReader(try readPayload(tag, name))
    }

    // MARK: Repeated scalars (packed or not)

    /// Appends one element (unpacked) or a packed run of varints.
    mutating func appendVarints(_ tag: WireTag, _ name: String, to values: inout [Int64]) throws {
        switch tag.type {
        case .varint:
            values.append(Int64(bitPattern: try readVarint()))
        case .lengthDelimited:
            var packed = subReader(try readLengthDelimited())
            while !packed.isAtEnd { values.append(Int64(bitPattern: try packed.readVarint())) }
        default:
            throw ONNXError(.malformed, "field \(tag.number) '\(name)': expected wire type varint or length-delimited, got \(tag.type.label)", offset: tag.offset)
        }
    }

    /// Appends one fixed32 element (unpacked) or a packed run copied in one piece.
    mutating func appendFixed32s(_ tag: WireTag, _ name: String, to values: inout [UInt32]) throws {
        switch tag.type {
        case .fixed32:
            values.append(try readFixed32())
        case .lengthDelimited:
            let range = try readLengthDelimited()
            guard range.count % 4 == 0 else {
                throw ONNXError(.malformed, "field \(tag.number) '\(name)': packed fixed32 length \(range.count) is not a multiple of 4", offset: tag.offset)
            }
            values.append(contentsOf: LittleEndianBytes.scalars(UInt32.self, bytes, range))
        default:
            throw ONNXError(.malformed, "field \(tag.number) '\(name)': expected wire type fixed32 or length-delimited, got \(tag.type.label)", offset: tag.offset)
        }
    }

    /// Appends one fixed64 element (unpacked) or a packed run copied in one piece.
    mutating func appendFixed64s(_ tag: WireTag, _ name: String, to values: inout [UInt64]) throws {
        switch tag.type {
        case .fixed64:
            values.append(try readFixed64())
        case .lengthDelimited:
            let range = try readLengthDelimited()
            guard range.count % 8 == 0 else {
                throw ONNXError(.malformed, "field \(tag.number) '\(name)': packed fixed64 length \(range.count) is not a multiple of 8", offset: tag.offset)
            }
            values.append(contentsOf: LittleEndianBytes.scalars(UInt64.self, bytes, range))
        default:
            throw ONNXError(.malformed, "field \(tag.number) '\(name)': expected wire type fixed64 or length-delimited, got \(tag.type.label)", offset: tag.offset)
        }
    }

    /// The first `string` value of field `number` in this message, scanning from the start of the
    /// window and giving up silently on any wire error. Used only to name a message in error
    /// paths before it is decoded (a tensor's name, field 8, follows its data).
    func peekString(field number: Int) -> String? {
        var scan = self
        while let tag = try? scan.nextTag() {
            if tag.number == number, tag.type == .lengthDelimited {
                guard let range = try? scan.readLengthDelimited(), range.count <= 256 else { return nil }
                return String(decoding: bytes[range], as: UTF8.self)
            }
            guard (try? scan.skip(tag)) != nil else { return nil }
        }
        return nil
    }
}
