/// Hand-built protobuf bytes for tests, written independently of ONNXFormat's writer.
enum PB {
    static func varint(_ value: UInt64) -> [UInt8] {
        var v = value
        var out: [UInt8] = []
        repeat {
            var byte = UInt8(v & 0x7F)
            v >>= 7
            if v != 0 { byte |= 0x80 }
            out.append(byte)
        } while v != 0
        return out
    }

    static func key(_ field: Int, _ wireType: Int) -> [UInt8] { varint(UInt64(field << 3 | wireType)) }
    static func int(_ field: Int, _ value: Int64) -> [UInt8] { key(field, 0) + varint(UInt64(bitPattern: value)) }
    static func fixed32(_ field: Int, _ bits: UInt32) -> [UInt8] {
        key(field, 5) + (0..<4).map { UInt8(truncatingIfNeeded: bits >> (8 * $0)) }
    }
    static func fixed64(_ field: Int, _ bits: UInt64) -> [UInt8] {
        key(field, 1) + (0..<8).map { UInt8(truncatingIfNeeded: bits >> (8 * $0)) }
    }
    static func bytes(_ field: Int, _ payload: [UInt8]) -> [UInt8] { key(field, 2) + varint(UInt64(payload.count)) + payload }
    static func string(_ field: Int, _ text: String) -> [UInt8] { bytes(field, Array(text.utf8)) }
    static func message(_ field: Int, _ parts: [UInt8]...) -> [UInt8] { bytes(field, parts.flatMap { $0 }) }

    /// A model around `graph` fields: ir_version 8, opset "" 17.
    static func model(graph: [UInt8]...) -> [UInt8] {
        int(1, 8) + message(7, graph.flatMap { $0 }) + message(8, int(2, 17))
    }

    /// A float32 tensor with raw_data.
    static func floatTensor(name: String, dims: [Int64], floats: [Float]) -> [UInt8] {
        dims.flatMap { int(1, $0) } + int(2, 1) + string(8, name)
            + bytes(9, floats.flatMap { f in (0..<4).map { UInt8(truncatingIfNeeded: f.bitPattern >> (8 * $0)) } })
    }
}
