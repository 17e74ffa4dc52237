/// A Huffman decoding table built from a DHT segment (ITU T.81 Annex C, libjpeg's derived table).
///
/// Codes of up to `lookaheadBits` bits decode with one lookup in `fast`; longer ones walk
/// `maxCode` by length. Construction rejects what libjpeg rejects: more than 256 symbols, a code
/// space overflow (a length whose codes run past all-ones), and DC symbols above 15.
final class JPEGHuffmanTable: @unchecked Sendable {
    static let lookaheadBits = 9

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
        // AC shortcut (as stb_image and libjpeg-turbo do): when a code and its magnitude bits fit in
        // the 9-bit window, one lookup yields the coefficient: value << 8 | run << 4 | bits used.
        var fastAC = [Int32](repeating: 0, count: 1 << Self.lookaheadBits)
        if !isDC {
            for i in 0..<(1 << Self.lookaheadBits) {
                let entry = Int(fast[i])
                guard entry != 0 else { continue }
                let length = entry >> 8, symbol = entry & 0xFF
                let run = symbol >> 4, size = symbol & 15
                guard size != 0, length + size <= Self.lookaheadBits else { continue }
                let raw = (i >> (Self.lookaheadBits - length - size)) & ((1 << size) - 1)
                let value = raw < (1 << (size - 1)) ? raw - (1 << size) + 1 : raw
                fastAC[i] = Int32(value << 8 | run << 4 | (length + size))
            }
        }
        storage = UnsafeMutableRawPointer.allocate(byteCount: JPEGHuffmanLookup.byteCount, alignment: 8)
        lookup = JPEGHuffmanLookup(storage: storage, fast: fast, fastAC: fastAC, maxCode: maxCode,
                                   valueOffset: valueOffset, values: values)
    }

    /// Owns the memory `lookup` points into (immutable after init, hence Sendable).
    private let storage: UnsafeMutableRawPointer
    /// Pointer view for the entropy decoder's inner loops; valid while this table lives.
    let lookup: JPEGHuffmanLookup

    deinit { storage.deallocate() }
}

/// The decoding tables of a `JPEGHuffmanTable` as plain pointers, so that the per-symbol path
/// does no reference counting or bounds checks. `values` always has 256 entries (unused ones 0),
/// so any index a corrupt code could form is in bounds.
struct JPEGHuffmanLookup {
    static let byteCount = (1 << JPEGHuffmanTable.lookaheadBits) * 6 + 18 * 8 * 2 + 256
    /// Indexed by the next 9 bits: `length << 8 | symbol`, or 0 when the code is longer than 9 bits.
    let fast: UnsafePointer<UInt16>
    /// For AC tables, indexed by the next 9 bits: `value << 8 | run << 4 | bits`, where `bits`
    /// (code plus magnitude) fit in the window; 0 otherwise.
    let fastAC: UnsafePointer<Int32>
    /// `maxCode[l]`: the largest code of length `l` (1...16), -1 when there is none; `[17]` is a sentinel.
    let maxCode: UnsafePointer<Int>
    /// `valueOffset[l]`: index into `values` of the first code of length `l`, minus that code.
    let valueOffset: UnsafePointer<Int>
    let values: UnsafePointer<UInt8>

    fileprivate init(storage: UnsafeMutableRawPointer, fast: [UInt16], fastAC: [Int32], maxCode: [Int],
                     valueOffset: [Int], values: [UInt8]) {
        let codes = storage.bindMemory(to: Int.self, capacity: 36)
        for i in 0..<18 {
            codes[i] = maxCode[i]
            codes[18 + i] = valueOffset[i]
        }
        let fastACStart = (storage + 36 * 8).bindMemory(to: Int32.self, capacity: fastAC.count)
        for i in fastAC.indices { fastACStart[i] = fastAC[i] }
        let fastStart = (storage + 36 * 8 + fastAC.count * 4).bindMemory(to: UInt16.self, capacity: fast.count)
        for i in fast.indices { fastStart[i] = fast[i] }
        let valueStart = (storage + 36 * 8 + fastAC.count * 4 + fast.count * 2).bindMemory(to: UInt8.self, capacity: 256)
        for i in 0..<256 { valueStart[i] = i < values.count ? values[i] : 0 }
        self.maxCode = UnsafePointer(codes)
        self.valueOffset = UnsafePointer(codes + 18)
        self.fast = UnsafePointer(fastStart)
        self.fastAC = UnsafePointer(fastACStart)
        self.values = UnsafePointer(valueStart)
    }
}
