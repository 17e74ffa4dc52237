/// A Huffman decoding table built from a DHT segment (ITU T.81 Annex C, libjpeg's derived table).
///
/// Codes of up to `lookaheadBits` bits decode with one lookup in `fast`; longer ones walk
/// `maxCode` by length. Construction rejects what libjpeg rejects: more than 256 symbols, a code
/// space overflow (a length whose codes run past all-ones), and DC symbols above 15.
struct JPEGHuffmanTable: Sendable {
    static let lookaheadBits = 9

    /// Indexed by the next 9 bits: `length << 8 | symbol`, or 0 when the code is longer than 9 bits.
    let fast: [UInt16]
    /// `maxCode[l]`: the largest code of length `l` (1...16), -1 when there is none; `[17]` is a sentinel.
    let maxCode: [Int]
    /// `valueOffset[l]`: index into `values` of the first code of length `l`, minus that code.
    let valueOffset: [Int]
    let values: [UInt8]

    /// - Parameters:
    ///   - counts: the 16 counts of codes of lengths 1...16.
    ///   - values: the symbols, in code order (`counts` sum to `values.count`).
    ///   - isDC: DC tables may only hold magnitude categories 0...15.
    /// - Throws: `.corrupt` for a table libjpeg would refuse.
    init(counts: [Int], values: [UInt8], isDC: Bool, offset: Int) throws(ImageDecodingError) {
        guard counts.count == 16, counts.reduce(0, +) == values.count, values.count <= 256 else {
            throw ImageDecodingError(.corrupt, "dht: expected at most 256 symbols matching the counts, got \(values.count)", offset: offset)
        }
        if isDC, let bad = values.first(where: { $0 > 15 }) {
            throw ImageDecodingError(.corrupt, "dht: dc symbol must be 0...15, got \(bad)", offset: offset)
        }
        var codes = [Int](repeating: 0, count: values.count)
        var lengths = [Int](repeating: 0, count: values.count)
        var maxCode = [Int](repeating: -1, count: 18)
        var valueOffset = [Int](repeating: 0, count: 18)
        var code = 0
        var index = 0
        for length in 1...16 {
            let n = counts[length - 1]
            if n > 0 {
                valueOffset[length] = index - code
                for _ in 0..<n {
                    codes[index] = code
                    lengths[index] = length
                    code += 1
                    index += 1
                }
                maxCode[length] = code - 1
                if code >= (1 << length) {
                    throw ImageDecodingError(.corrupt, "dht: code space overflows at length \(length)", offset: offset)
                }
            }
            code <<= 1
        }
        maxCode[17] = Int.max
        var fast = [UInt16](repeating: 0, count: 1 << Self.lookaheadBits)
        for i in 0..<values.count where lengths[i] <= Self.lookaheadBits {
            let spare = Self.lookaheadBits - lengths[i]
            let first = codes[i] << spare
            let entry = UInt16(lengths[i] << 8) | UInt16(values[i])
            for j in first..<(first + (1 << spare)) { fast[j] = entry }
        }
        self.fast = fast
        self.maxCode = maxCode
        self.valueOffset = valueOffset
        self.values = values
    }
}
