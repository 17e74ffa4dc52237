/// Appends protobuf wire-format fields to a byte buffer. Fields equal to proto3 defaults are the
/// caller's choice to omit; this type writes whatever it is asked to.
struct WireWriter {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func key(_ field: Int, _ type: WireType) {
        varint(UInt64(field) << 3 | UInt64(type.rawValue))
    }

    mutating func int64(_ field: Int, _ value: Int64) {
        key(field, .varint)
        varint(UInt64(bitPattern: value))
    }

    /// int32 and enum fields: negatives are sign-extended to ten bytes, as protobuf does.
    mutating func int32(_ field: Int, _ value: Int32) {
        int64(field, Int64(value))
    }

    mutating func float(_ field: Int, _ value: Float) {
        key(field, .fixed32)
        bytes.append(contentsOf: LittleEndianBytes.bytes(of: [value.bitPattern]))
    }

    mutating func bytesField(_ field: Int, _ value: [UInt8]) {
        key(field, .lengthDelimited)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func string(_ field: Int, _ value: String) {
        bytesField(field, Array(value.utf8))
    }

    /// Writes `value` only when it is not empty (proto3 default).
    mutating func optionalString(_ field: Int, _ value: String) {
        if !value.isEmpty { string(field, value) }
    }

    mutating func message(_ field: Int, _ build: (inout WireWriter) -> Void) {
        var inner = WireWriter()
        build(&inner)
        bytesField(field, inner.bytes)
    }

    mutating func packedVarints(_ field: Int, _ values: [Int64]) {
        guard !values.isEmpty else { return }
        var inner = WireWriter()
        for v in values { inner.varint(UInt64(bitPattern: v)) }
        bytesField(field, inner.bytes)
    }

    mutating func packedFixed32(_ field: Int, _ values: [UInt32]) {
        guard !values.isEmpty else { return }
        bytesField(field, LittleEndianBytes.bytes(of: values))
    }

    mutating func packedFixed64(_ field: Int, _ values: [UInt64]) {
        guard !values.isEmpty else { return }
        bytesField(field, LittleEndianBytes.bytes(of: values))
    }

    /// Bytes already in wire format (keys included).
    mutating func verbatim(_ encoded: [UInt8]) {
        bytes.append(contentsOf: encoded)
    }
}
