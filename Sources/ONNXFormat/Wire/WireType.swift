/// Protobuf wire types (the low three bits of a field key).
enum WireType: UInt8, Sendable {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5

    var label: String {
        switch self {
        case .varint: return "varint"
        case .fixed64: return "fixed64"
        case .lengthDelimited: return "length-delimited"
        case .startGroup: return "start-group"
        case .endGroup: return "end-group"
        case .fixed32: return "fixed32"
        }
    }
}

/// One field key: number, wire type, and the byte offset of the key itself (for error messages).
struct WireTag: Sendable {
    var number: Int
    var type: WireType
    var offset: Int
}
