/// A canonical Huffman code (RFC 1951 §3.2.2) as a two-level lookup table indexed by the next input
/// bits in DEFLATE's order (least significant bit first).
///
/// The primary table has `1 << primaryBits` entries; a code longer than `primaryBits` lands on a
/// pointer entry whose subtable is indexed by the following bits. Every index the decoder can form
/// is inside `entries` by construction, so the decoding loop reads it without bounds checks.
///
/// Entry layout (`UInt32`): bits 0–3 the bits to consume (for a pointer: the subtable's index
/// width); bits 4–7 the extra bits that follow the code; bits 8–10 the kind; bits 16–31 the value
/// (a literal byte, a length or distance base, or a subtable offset).
final class DeflateHuffmanTable {
    static let kindLiteral: UInt32 = 0
    static let kindBase: UInt32 = 1
    static let kindEndOfBlock: UInt32 = 2
    static let kindSubtable: UInt32 = 3
    static let kindInvalid: UInt32 = 4

    /// What the code describes: which incomplete codes zlib accepts depends on it.
    enum Alphabet { case literalLength, distance, codeLength }

    let primaryBits: Int
    let entries: UnsafeMutablePointer<UInt32>
    private let capacity: Int
    private let alphabet: Alphabet
    /// The kind, extra bits and value of each symbol, without the code length.
    private let symbolEntries: [UInt32]

    init(alphabet: Alphabet) {
        self.alphabet = alphabet
        switch alphabet {
        case .literalLength:
            primaryBits = 10
            symbolEntries = DeflateHuffmanTable.literalLengthSymbols
        case .distance:
            primaryBits = 8
            symbolEntries = DeflateHuffmanTable.distanceSymbols
        case .codeLength:
            primaryBits = 7
            symbolEntries = (0..<19).map { UInt32($0) << 16 | DeflateHuffmanTable.kindLiteral << 8 }
        }
        // Each symbol longer than primaryBits opens at most one subtable of at most 2^(15 - primaryBits).
        capacity = (1 << primaryBits) + symbolEntries.count << (15 - primaryBits)
        entries = .allocate(capacity: capacity)
        entries.initialize(repeating: DeflateHuffmanTable.invalidEntry, count: capacity)
    }

    deinit { entries.deallocate() }

    static let invalidEntry: UInt32 = kindInvalid << 8 | 1

    /// Fills the table from code lengths (0 = unused symbol, at most 15).
    ///
    /// Throws `.corrupt` for an over-subscribed code, and for an incomplete one except where zlib
    /// accepts it: a literal/length or distance code with a single 1-bit code, or no codes at all
    /// (a hole decodes to an invalid entry, which the decoder rejects when it is reached).
    func build(lengths: UnsafeBufferPointer<UInt8>) throws(ImageDecodingError) {
        precondition(lengths.count <= symbolEntries.count, "more code lengths than symbols")
        var count = [Int](repeating: 0, count: 16)
        for length in lengths { count[Int(length & 15)] += 1 }
        count[0] = 0
        var left = 1
        var maxLength = 0
        for length in 1...15 {
            left = left << 1 - count[length]
            if left < 0 { throw ImageDecodingError(.corrupt, "deflate: over-subscribed \(alphabet) huffman code") }
            if count[length] > 0 { maxLength = length }
        }
        if left > 0 && maxLength > 0 && (alphabet == .codeLength || maxLength != 1) {
            throw ImageDecodingError(.corrupt, "deflate: incomplete \(alphabet) huffman code")
        }
        entries.update(repeating: DeflateHuffmanTable.invalidEntry, count: capacity)

        var nextCode = [Int](repeating: 0, count: 16)
        var code = 0
        for length in 1...15 {
            code = (code + count[length - 1]) << 1
            nextCode[length] = code
        }
        let primarySize = 1 << primaryBits
        let primaryMask = primarySize - 1
        // Reversed codes, and the subtable width each primary slot needs.
        var reversed = [Int](repeating: 0, count: lengths.count)
        var subtableBits = [Int](repeating: 0, count: primarySize)
        for symbol in 0..<lengths.count {
            let length = Int(lengths[symbol])
            if length == 0 { continue }
            reversed[symbol] = DeflateHuffmanTable.reverse(nextCode[length], bits: length)
            nextCode[length] += 1
            if length > primaryBits {
                let slot = reversed[symbol] & primaryMask
                subtableBits[slot] = max(subtableBits[slot], length - primaryBits)
            }
        }
        var subtableOffset = [Int](repeating: 0, count: primarySize)
        var next = primarySize
        for slot in 0..<primarySize where subtableBits[slot] > 0 {
            subtableOffset[slot] = next
            entries[slot] = UInt32(next) << 16 | DeflateHuffmanTable.kindSubtable << 8 | UInt32(subtableBits[slot])
            next += 1 << subtableBits[slot]
        }
        for symbol in 0..<lengths.count {
            let length = Int(lengths[symbol])
            if length == 0 { continue }
            let code = reversed[symbol]
            if length <= primaryBits {
                let entry = symbolEntries[symbol] | UInt32(length)
                var index = code
                while index < primarySize {
                    entries[index] = entry
                    index += 1 << length
                }
            } else {
                let slot = code & primaryMask
                let width = subtableBits[slot]
                let rest = length - primaryBits
                let entry = symbolEntries[symbol] | UInt32(rest)
                var index = code >> primaryBits
                while index < 1 << width {
                    entries[subtableOffset[slot] + index] = entry
                    index += 1 << rest
                }
            }
        }
    }

    static func reverse(_ code: Int, bits: Int) -> Int {
        var result = 0
        var value = code
        for _ in 0..<bits {
            result = result << 1 | value & 1
            value >>= 1
        }
        return result
    }

    /// Symbols 0–255 literals, 256 end of block, 257–285 length bases with their extra bits,
    /// 286–287 invalid (they take part in the fixed code but never occur in valid data).
    static let literalLengthSymbols: [UInt32] = {
        let bases = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
                     35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
        let extra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
                     3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
        var table = (0..<256).map { UInt32($0) << 16 | kindLiteral << 8 }
        table.append(kindEndOfBlock << 8)
        for i in 0..<29 { table.append(UInt32(bases[i]) << 16 | UInt32(extra[i]) << 4 | kindBase << 8) }
        table += [kindInvalid << 8, kindInvalid << 8]
        return table
    }()

    /// Symbols 0–29 distance bases with their extra bits, 30–31 invalid.
    static let distanceSymbols: [UInt32] = {
        let bases = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
                     1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
        var table: [UInt32] = []
        for i in 0..<30 {
            let extra = i < 4 ? 0 : i / 2 - 1
            table.append(UInt32(bases[i]) << 16 | UInt32(extra) << 4 | kindBase << 8)
        }
        table += [kindInvalid << 8, kindInvalid << 8]
        return table
    }()
}
