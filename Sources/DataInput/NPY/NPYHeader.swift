/// The parsed preamble of a `.npy` file: what the data section holds and where it starts.
/// Reading it never allocates in proportion to the declared shape.
public struct NPYHeader: Sendable, Equatable {
    public var dtype: NPYArray.DType
    /// True when the file stores big-endian ('>') elements; the reader byte-swaps them.
    public var bigEndian: Bool
    public var shape: [Int]
    /// Product of `shape`, checked against overflow.
    public var count: Int
    /// Byte offset of the first element.
    public var dataOffset: Int
    public var version: (major: UInt8, minor: UInt8)

    /// Bytes the data section must hold: `count * dtype.size`, checked against overflow.
    public var dataByteCount: Int

    public static func == (a: NPYHeader, b: NPYHeader) -> Bool {
        a.dtype == b.dtype && a.bigEndian == b.bigEndian && a.shape == b.shape
            && a.dataOffset == b.dataOffset && a.version == b.version
    }

    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

    /// Parses the magic, version, header length and header dictionary from the start of a file.
    /// `prefix` must hold at least the whole header (the data section need not be present).
    /// Throws `.notNPY`, `.truncated`, `.badHeader` or `.unsupported` (big-endian is converted,
    /// Fortran order is refused).
    public static func parse(_ prefix: [UInt8]) throws(NPYError) -> NPYHeader {
        guard prefix.count >= 8 else {
            throw NPYError(.truncated, at: "magic", "expected at least 8 bytes, got \(prefix.count)")
        }
        guard Array(prefix[0..<6]) == magic else {
            throw NPYError(.notNPY, at: "magic", "expected \\x93NUMPY, got \(hex(prefix[0..<6]))")
        }
        let major = prefix[6], minor = prefix[7]
        let lengthBytes: Int
        switch major {
        case 1: lengthBytes = 2
        case 2, 3: lengthBytes = 4
        default: throw NPYError(.notNPY, at: "version", "expected 1.0, 2.0 or 3.0, got \(major).\(minor)")
        }
        guard prefix.count >= 8 + lengthBytes else {
            throw NPYError(.truncated, at: "header length", "expected \(lengthBytes) bytes, got \(prefix.count - 8)")
        }
        var headerLength = 0
        for i in 0..<lengthBytes { headerLength |= Int(prefix[8 + i]) << (8 * i) }
        let start = 8 + lengthBytes
        guard headerLength <= prefix.count - start else {
            throw NPYError(.truncated, at: "header length",
                           "header of \(headerLength) bytes runs past the end (\(prefix.count - start) bytes left)")
        }
        let fields = try NPYHeaderDictionary.parse(prefix[start..<(start + headerLength)])
        let (dtype, bigEndian) = try descriptor(fields.descr)
        if fields.fortranOrder {
            throw NPYError(.unsupported, at: "header 'fortran_order'",
                           "expected False (C order), got True; save with np.ascontiguousarray")
        }
        guard let count = NPYArray.elementCount(fields.shape) else {
            throw NPYError(.badHeader, at: "header 'shape'", "element count of \(fields.shape) overflows")
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.size)
        guard !overflow else {
            throw NPYError(.badHeader, at: "header 'shape'", "byte size of \(fields.shape) overflows")
        }
        return NPYHeader(dtype: dtype, bigEndian: bigEndian, shape: fields.shape, count: count,
                         dataOffset: start + headerLength, version: (major, minor), dataByteCount: bytes)
    }

    /// Maps a descriptor such as `<f4` to a dtype; `>` is accepted (converted), `=` is read as
    /// little-endian (the only byte order WeakSpot runs on).
    static func descriptor(_ text: String) throws(NPYError) -> (NPYArray.DType, Bool) {
        let chars = Array(text.utf8)
        guard chars.count >= 3, let order = chars.first, [UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "|"), UInt8(ascii: "=")].contains(order) else {
            throw NPYError(.unsupported, at: "header 'descr'", "expected a byte order and a type such as '<f4', got '\(text)'")
        }
        let type = String(decoding: chars[1...], as: UTF8.self)
        let dtype: NPYArray.DType
        switch type {
        case "f4": dtype = .float32
        case "f8": dtype = .float64
        case "i8": dtype = .int64
        case "i4": dtype = .int32
        case "u1": dtype = .uint8
        default:
            throw NPYError(.unsupported, at: "header 'descr'", "expected one of f4, f8, i8, i4, u1, got '\(text)'")
        }
        if order == UInt8(ascii: "|") && dtype.size != 1 {
            throw NPYError(.badHeader, at: "header 'descr'", "expected a byte order for a \(dtype.size)-byte type, got '\(text)'")
        }
        return (dtype, order == UInt8(ascii: ">") && dtype.size > 1)
    }

    /// The header numpy itself writes for this dtype and shape (byte for byte, version 1.0 unless
    /// the header needs more than 65535 bytes): magic, version, length, dictionary, padding so that
    /// the data starts on a 64-byte boundary.
    static func encode(dtype: NPYArray.DType, shape: [Int]) -> [UInt8] {
        let shapeText: String
        switch shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(shape[0]),)"
        default: shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        var dictionary = "{'descr': '\(dtype.descriptor)', 'fortran_order': False, 'shape': \(shapeText), }"
        if let first = shape.first {
            // numpy leaves room for the first dimension to grow to 21 digits.
            dictionary += String(repeating: " ", count: max(0, 21 - String(first).count))
        }
        var body = Array(dictionary.utf8)
        func padding(_ lengthBytes: Int) -> Int { 64 - (6 + 2 + lengthBytes + body.count + 1) % 64 }
        let lengthBytes = body.count + 1 + padding(2) <= 65535 ? 2 : 4
        let padding = padding(lengthBytes)
        body += [UInt8](repeating: UInt8(ascii: " "), count: padding)
        body.append(UInt8(ascii: "\n"))
        var out = magic
        out += lengthBytes == 2 ? [1, 0] : [2, 0]
        for i in 0..<lengthBytes { out.append(UInt8(truncatingIfNeeded: body.count >> (8 * i))) }
        return out + body
    }

    static func hex(_ bytes: ArraySlice<UInt8>) -> String {
        bytes.map { b in
            let digits = String(b, radix: 16)
            return "\\x" + (digits.count == 1 ? "0" + digits : digits)
        }.joined()
    }
}
