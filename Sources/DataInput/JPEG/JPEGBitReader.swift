/// Reads the entropy-coded segment of a scan, most significant bit first, with libjpeg's rules:
/// `FF 00` is a data byte `FF`, `FF FF … FF xx` is a run of fill bytes before marker `xx`, and once a
/// marker (or the end of the data) is reached the reader supplies zero bits, as libjpeg does.
///
/// Bits are kept left-aligned in a 64-bit buffer; `refill()` tops it up (to at least 57 bits)
/// whenever fewer than 32 remain, so a Huffman code plus its magnitude bits (≤ 31) never run dry.
/// Zero bits supplied after the stop are counted, so the decoder can tell afterwards whether it
/// read past the real data (`overran`) and whether that stop was the end of the file (`hitEnd`).
struct JPEGBitReader {
    let data: UnsafeBufferPointer<UInt8>
    /// Next byte to read; once stopped, the offset of the `FF` that starts the marker (or `data.count`).
    private(set) var position: Int
    private var buffer: UInt64 = 0
    private(set) var count: Int = 0
    /// Zero bits at the bottom of the buffer that were not in the file.
    private var padded: Int = 0
    private(set) var stopped = false
    /// True when the reader stopped because the data ended (no marker followed).
    private(set) var hitEnd = false
    /// True once a caller consumed a zero bit that the file did not contain.
    private var overranFlag = false

    init(_ data: UnsafeBufferPointer<UInt8>, position: Int) {
        self.data = data
        self.position = position
    }

    /// Whether bits beyond the real data (at a marker or the file's end) have been consumed.
    var overran: Bool { overranFlag || padded > count }

    /// Makes at least 32 bits available: enough for a Huffman code and its magnitude bits.
    @inline(__always)
    mutating func refill() {
        if count >= 32 { return }
        refillSlow()
    }

    @inline(never)
    private mutating func refillSlow() {
        if padded > count {
            overranFlag = true
            padded = count
        }
        guard let base = data.baseAddress else {
            padWithZeros()
            return
        }
        let end = data.count
        // Fast path: eight bytes ahead hold no 0xFF, so they are all data bytes.
        if !stopped && end - position >= 8 {
            let word = UInt64(bigEndian: UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self))
            let inverted = ~word
            let hasFF = (inverted &- 0x0101_0101_0101_0101) & ~inverted & 0x8080_8080_8080_8080
            if hasFF == 0 {
                let n = (64 - count) >> 3
                let chunk = n == 8 ? word : word >> UInt64(64 - 8 * n)
                buffer |= chunk << UInt64(64 - count - 8 * n)
                count += 8 * n
                position += n
                return
            }
        }
        while count <= 56 {
            if stopped {
                padWithZeros()
                return
            }
            if position >= end {
                stopped = true
                hitEnd = true
                continue
            }
            let byte = base[position]
            if byte != 0xFF {
                buffer |= UInt64(byte) << UInt64(56 - count)
                count += 8
                position += 1
                continue
            }
            var next = position + 1
            while next < end && base[next] == 0xFF { next += 1 }
            if next >= end {
                stopped = true
                hitEnd = true
                position = end
                continue
            }
            if base[next] == 0 {
                buffer |= UInt64(0xFF) << UInt64(56 - count)
                count += 8
                position = next + 1
            } else {
                stopped = true
                position = next - 1
            }
        }
    }

    private mutating func padWithZeros() {
        // Zero bits: the buffer below `count` is already zero.
        let added = 64 - count
        padded += added
        count = 64
    }

    /// The next 16 bits without consuming them (refill first).
    @inline(__always)
    func peek16() -> Int { Int(truncatingIfNeeded: buffer >> 48) }

    @inline(__always)
    func peek(_ n: Int) -> Int { Int(truncatingIfNeeded: buffer >> UInt64(64 - n)) }

    @inline(__always)
    mutating func skip(_ n: Int) {
        buffer <<= UInt64(n)
        count -= n
    }

    /// `n` bits (0...16) as an unsigned value; refills as needed.
    @inline(__always)
    mutating func bits(_ n: Int) -> Int {
        if n == 0 { return 0 }
        refill()
        let value = Int(truncatingIfNeeded: buffer >> UInt64(64 - n))
        buffer <<= UInt64(n)
        count -= n
        return value
    }

    @inline(__always)
    mutating func bit() -> Int {
        refill()
        let value = Int(truncatingIfNeeded: buffer >> 63)
        buffer <<= 1
        count -= 1
        return value
    }

    /// `n` bits (0...15) read as a JPEG "extended" signed magnitude value (ITU T.81 F.2.2.1).
    @inline(__always)
    mutating func signedBits(_ n: Int) -> Int32 {
        if n == 0 { return 0 }
        refill()
        let value = Int32(truncatingIfNeeded: buffer >> UInt64(64 - n))
        buffer <<= UInt64(n)
        count -= n
        return value < (1 << Int32(n - 1)) ? value - (1 << Int32(n)) + 1 : value
    }

    /// Decodes one Huffman symbol. A code that is not in the table decodes as symbol 0, as libjpeg
    /// does (it warns and carries on); the caller's loops stay bounded either way.
    @inline(__always)
    mutating func decode(_ table: JPEGHuffmanLookup) -> Int {
        refill()
        let entry = Int(table.fast[Int(truncatingIfNeeded: buffer >> UInt64(64 - JPEGHuffmanTable.lookaheadBits))])
        if entry != 0 {
            skip(entry >> 8)
            return entry & 0xFF
        }
        return decodeSlow(table)
    }

    @inline(never)
    private mutating func decodeSlow(_ table: JPEGHuffmanLookup) -> Int {
        let window = peek16()
        var length = JPEGHuffmanTable.lookaheadBits + 1
        while length <= 16 {
            let code = window >> (16 - length)
            if code <= table.maxCode[length] {
                skip(length)
                let index = table.valueOffset[length] + code
                guard index >= 0 && index < 256 else { return 0 }
                return Int(table.values[index])
            }
            length += 1
        }
        skip(16)
        return 0
    }

    /// Drops buffered bits and, at a restart boundary, steps over the `RSTn` marker.
    /// If the data goes on without a marker, bytes are skipped up to the next marker, as libjpeg
    /// does; a marker that is not `RSTn` is left in place and the reader keeps supplying zeros.
    mutating func restart() {
        buffer = 0
        count = 0
        padded = 0
        overranFlag = false
        guard let base = data.baseAddress else { return }
        let end = data.count
        if !stopped {
            // Skip whatever the decoder did not need, up to the next marker.
            var p = position
            while p < end {
                if base[p] == 0xFF {
                    var q = p + 1
                    while q < end && base[q] == 0xFF { q += 1 }
                    if q < end && base[q] != 0 {
                        p = q - 1
                        break
                    }
                    p = q
                } else {
                    p += 1
                }
            }
            position = min(p, end)
            stopped = true
            if position >= end {
                hitEnd = true
                return
            }
        }
        if hitEnd { return }
        let marker = position + 1 < end ? base[position + 1] : 0
        if marker >= 0xD0 && marker <= 0xD7 {
            position += 2
            stopped = false
        }
    }
}
