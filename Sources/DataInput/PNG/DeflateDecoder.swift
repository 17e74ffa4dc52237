/// Decodes a raw DEFLATE stream (RFC 1951: stored, fixed and dynamic Huffman blocks) into a
/// caller-owned buffer.
///
/// The output is bounded twice: by `capacity` (the buffer; with `growable` it is reallocated by
/// doubling) and by `limit`, past which the stream is refused. Every decoded symbol consumes at
/// least one bit and the reader refuses to run far past its input, so no input makes it loop.
struct DeflateDecoder {
    var reader: DeflateBitReader
    /// The output buffer; owned by the caller, who deallocates it (also after a throw). It must
    /// have `DeflateDecoder.slack` writable bytes past `capacity`: match copies move 8 bytes at a time.
    var output: UnsafeMutablePointer<UInt8>
    var capacity: Int
    var count = 0
    /// Largest output accepted.
    let limit: Int
    /// Whether `output` may be reallocated (up to `limit`) when full.
    let growable: Bool
    /// What to say when `limit` is passed: the error kind and a fragment naming the limit.
    let limitError: (ImageDecodingError.Kind, String)

    static let slack = 16

    private let literalLengths = DeflateHuffmanTable(alphabet: .literalLength)
    private let distances = DeflateHuffmanTable(alphabet: .distance)
    private let codeLengths = DeflateHuffmanTable(alphabet: .codeLength)

    init(reader: DeflateBitReader, output: UnsafeMutablePointer<UInt8>, capacity: Int, limit: Int,
         growable: Bool, limitError: (ImageDecodingError.Kind, String)) {
        self.reader = reader
        self.output = output
        self.capacity = capacity
        self.limit = limit
        self.growable = growable
        self.limitError = limitError
    }

    /// Decodes blocks up to and including the final one; the reader is then byte-aligned just
    /// after the stream.
    mutating func decodeAll() throws(ImageDecodingError) {
        var final = false
        while !final {
            final = try reader.read(1) == 1
            switch try reader.read(2) {
            case 0: try copyStoredBlock()
            case 1:
                try buildFixedTables()
                try decodeHuffmanBlock()
            case 2:
                try readDynamicTables()
                try decodeHuffmanBlock()
            default:
                throw ImageDecodingError(.corrupt, "deflate: block type 3 is reserved")
            }
        }
        reader.alignToByte()
        if reader.position > reader.count {
            throw ImageDecodingError(.truncated, "deflate: stream ends inside its final block")
        }
    }

    // MARK: - Stored blocks

    private mutating func copyStoredBlock() throws(ImageDecodingError) {
        reader.alignToByte()
        let start = reader.position
        guard start + 4 <= reader.count else {
            throw ImageDecodingError(.truncated, "deflate: stored block header needs 4 bytes, got \(max(0, reader.count - start))")
        }
        let length = Int(reader.base[start]) | Int(reader.base[start + 1]) << 8
        let complement = Int(reader.base[start + 2]) | Int(reader.base[start + 3]) << 8
        guard length ^ complement == 0xFFFF else {
            throw ImageDecodingError(.corrupt, "deflate: stored block length \(length) does not match its complement \(complement)")
        }
        guard start + 4 + length <= reader.count else {
            throw ImageDecodingError(.truncated, "deflate: stored block of \(length) bytes, only \(reader.count - start - 4) left")
        }
        try reserve(length)
        (output + count).update(from: reader.base + start + 4, count: length)
        count += length
        reader.position = start + 4 + length
    }

    // MARK: - Tables

    private mutating func buildFixedTables() throws(ImageDecodingError) {
        var lengths = [UInt8](repeating: 8, count: 288)
        for i in 144..<256 { lengths[i] = 9 }
        for i in 256..<280 { lengths[i] = 7 }
        try lengths.withUnsafeBufferPointer { (p) throws(ImageDecodingError) in try literalLengths.build(lengths: p) }
        let distanceLengths = [UInt8](repeating: 5, count: 32)  // 30 and 31 complete the code; they decode as invalid
        try distanceLengths.withUnsafeBufferPointer { (p) throws(ImageDecodingError) in try distances.build(lengths: p) }
    }

    private static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    private mutating func readDynamicTables() throws(ImageDecodingError) {
        let literalCount = try reader.read(5) + 257
        let distanceCount = try reader.read(5) + 1
        let codeLengthCount = try reader.read(4) + 4
        guard literalCount <= 286, distanceCount <= 30 else {
            throw ImageDecodingError(.corrupt, "deflate: dynamic block declares \(literalCount) literal/length and \(distanceCount) distance codes, at most 286 and 30 allowed")
        }
        var codeLengthLengths = [UInt8](repeating: 0, count: 19)
        for i in 0..<codeLengthCount {
            codeLengthLengths[DeflateDecoder.codeLengthOrder[i]] = UInt8(try reader.read(3))
        }
        try codeLengthLengths.withUnsafeBufferPointer { (p) throws(ImageDecodingError) in try codeLengths.build(lengths: p) }

        let total = literalCount + distanceCount
        var lengths = [UInt8](repeating: 0, count: total)
        var i = 0
        let table = codeLengths.entries
        let mask = (1 << codeLengths.primaryBits) - 1
        while i < total {
            try reader.refill()
            let entry = table[reader.peek(7) & mask]
            if entry >> 8 & 7 == DeflateHuffmanTable.kindInvalid {
                throw ImageDecodingError(.corrupt, "deflate: invalid code-length code")
            }
            reader.consume(Int(entry & 15))
            let symbol = Int(entry >> 16)
            var repeatValue: UInt8 = 0
            var repeatCount: Int
            switch symbol {
            case 0...15:
                lengths[i] = UInt8(symbol)
                i += 1
                continue
            case 16:
                guard i > 0 else { throw ImageDecodingError(.corrupt, "deflate: code-length repeat with no previous length") }
                repeatValue = lengths[i - 1]
                repeatCount = 3 + reader.peek(2); reader.consume(2)
            case 17:
                repeatCount = 3 + reader.peek(3); reader.consume(3)
            default:
                repeatCount = 11 + reader.peek(7); reader.consume(7)
            }
            guard i + repeatCount <= total else {
                throw ImageDecodingError(.corrupt, "deflate: code-length repeat runs past the \(total) lengths")
            }
            for _ in 0..<repeatCount { lengths[i] = repeatValue; i += 1 }
        }
        guard lengths[256] != 0 else { throw ImageDecodingError(.corrupt, "deflate: dynamic block has no end-of-block code") }
        try lengths.withUnsafeBufferPointer { (p) throws(ImageDecodingError) in
            try literalLengths.build(lengths: UnsafeBufferPointer(rebasing: p[0..<literalCount]))
            try distances.build(lengths: UnsafeBufferPointer(rebasing: p[literalCount..<total]))
        }
    }

    // MARK: - Huffman-coded data

    /// The hot loop: state lives in locals and goes back to `self` before returning or throwing.
    private mutating func decodeHuffmanBlock() throws(ImageDecodingError) {
        let literalTable = literalLengths.entries
        let literalMask = (1 << literalLengths.primaryBits) - 1
        let distanceTable = distances.entries
        let distanceMask = (1 << distances.primaryBits) - 1
        var r = reader
        var out = output
        var end = capacity
        var n = count
        defer {
            reader = r
            count = n
        }
        let literalPrimaryBits = literalLengths.primaryBits
        while true {
            // 56+ bits: two literal codes (15 bits each at most) need no refill in between.
            try r.refill()
            var entry = literalTable[r.peek(64) & literalMask]
            if entry >> 8 & 7 == DeflateHuffmanTable.kindSubtable {
                r.consume(literalPrimaryBits)
                entry = literalTable[Int(entry >> 16) + r.peek(Int(entry & 15))]
            }
            r.consume(Int(entry & 15))
            if entry >> 8 & 7 == DeflateHuffmanTable.kindLiteral {
                if n >= end {
                    count = n
                    try reserve(1)
                    out = output; end = capacity
                }
                out[n] = UInt8(truncatingIfNeeded: entry >> 16)
                n += 1
                entry = literalTable[r.peek(64) & literalMask]
                if entry >> 8 & 7 == DeflateHuffmanTable.kindSubtable {
                    r.consume(literalPrimaryBits)
                    entry = literalTable[Int(entry >> 16) + r.peek(Int(entry & 15))]
                }
                r.consume(Int(entry & 15))
                if entry >> 8 & 7 == DeflateHuffmanTable.kindLiteral {
                    if n >= end {
                        count = n
                        try reserve(1)
                        out = output; end = capacity
                    }
                    out[n] = UInt8(truncatingIfNeeded: entry >> 16)
                    n += 1
                    continue
                }
            }
            let kind = entry >> 8 & 7
            if kind == DeflateHuffmanTable.kindEndOfBlock { return }
            if kind != DeflateHuffmanTable.kindBase {
                throw ImageDecodingError(.corrupt, "deflate: invalid literal/length code")
            }
            let extra = Int(entry >> 4 & 15)
            let length = Int(entry >> 16) + r.peek(extra)
            r.consume(extra)
            // A distance needs 28 bits at most (15-bit code, 13 extra bits).
            if r.bitCount < 28 { try r.refill() }

            var distanceEntry = distanceTable[r.peek(64) & distanceMask]
            if distanceEntry >> 8 & 7 == DeflateHuffmanTable.kindSubtable {
                r.consume(distances.primaryBits)
                distanceEntry = distanceTable[Int(distanceEntry >> 16) + r.peek(Int(distanceEntry & 15))]
            }
            r.consume(Int(distanceEntry & 15))
            if distanceEntry >> 8 & 7 != DeflateHuffmanTable.kindBase {
                throw ImageDecodingError(.corrupt, "deflate: invalid distance code")
            }
            let distanceExtra = Int(distanceEntry >> 4 & 15)
            let distance = Int(distanceEntry >> 16) + r.peek(distanceExtra)
            r.consume(distanceExtra)
            guard distance <= n else {
                throw ImageDecodingError(.corrupt, "deflate: distance \(distance) reaches before the start of the output (\(n) bytes)")
            }
            if n + length > end {
                count = n
                try reserve(length)
                out = output; end = capacity
            }
            DeflateDecoder.copyMatch(out + n, distance: distance, length: length)
            n += length
        }
    }

    /// Copies `length` bytes from `distance` bytes back; overlapping copies repeat the pattern.
    /// May write up to 7 bytes past the end (into the buffer's slack or bytes decoded next).
    @inline(__always)
    private static func copyMatch(_ destination: UnsafeMutablePointer<UInt8>, distance: Int, length: Int) {
        var source = UnsafeRawPointer(destination - distance)
        var target = UnsafeMutableRawPointer(destination)
        if distance >= 8 {
            // Each 8-byte word is read before it is written over, and lies wholly in decoded output.
            let end = target + length
            repeat {
                target.storeBytes(of: source.loadUnaligned(as: UInt64.self), as: UInt64.self)
                source += 8
                target += 8
            } while target < end
        } else if distance == 1 {
            destination.update(repeating: destination[-1], count: length)
        } else {
            for i in 0..<length { destination[i] = destination[i - distance] }
        }
    }

    // MARK: - Output space

    /// Makes room for `extra` more bytes, growing the buffer if allowed; throws past `limit`.
    private mutating func reserve(_ extra: Int) throws(ImageDecodingError) {
        let needed = count + extra
        if needed <= capacity { return }
        guard needed <= limit else {
            throw ImageDecodingError(limitError.0, "deflate: output exceeds \(limitError.1)")
        }
        guard growable else {
            throw ImageDecodingError(.corrupt, "deflate: output exceeds the \(capacity)-byte buffer")
        }
        let newCapacity = min(limit, max(needed, capacity * 2, 4096))
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity + DeflateDecoder.slack)
        grown.update(from: output, count: count)
        output.deallocate()
        output = grown
        capacity = newCapacity
    }
}
