/// Reads a DEFLATE stream's bits, least significant first, through a 64-bit buffer.
///
/// `refill()` tops the buffer up to at least 56 bits, 8 bytes at a time while they last. Past the
/// end of the input it shifts in zero bytes, so the decoding loop needs no end test per symbol; a
/// stream that really uses those bytes is caught by `consumedBytes > count` at its end, and one
/// that keeps asking for more than a buffer's worth of them is refused at once as truncated.
struct DeflateBitReader {
    let base: UnsafePointer<UInt8>
    let count: Int
    /// Next byte to load (may run up to 8 bytes past `count`, as zeros).
    var position: Int
    var buffer: UInt64 = 0
    var bitCount: Int = 0

    init(base: UnsafePointer<UInt8>, count: Int, position: Int) {
        self.base = base
        self.count = count
        self.position = position
    }

    /// Bytes consumed so far: loaded minus whole bytes still in the buffer.
    var consumedBytes: Int { position - bitCount >> 3 }

    @inline(__always)
    mutating func refill() throws(ImageDecodingError) {
        if position + 8 <= count {
            let word = UInt64(littleEndian: UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self))
            buffer |= word << UInt64(bitCount)
            position += (63 - bitCount) >> 3
            bitCount |= 56
        } else {
            try refillSlowly()
        }
    }

    @inline(never)
    mutating func refillSlowly() throws(ImageDecodingError) {
        while bitCount <= 56 {
            if position >= count + 8 {
                throw ImageDecodingError(.truncated, "deflate: stream ends inside a block (\(count) bytes)")
            }
            let byte = position < count ? base[position] : 0
            buffer |= UInt64(byte) << UInt64(bitCount)
            position += 1
            bitCount += 8
        }
    }

    /// The next `n` bits (n <= 56 after a refill) without consuming them.
    @inline(__always)
    func peek(_ n: Int) -> Int { Int(truncatingIfNeeded: buffer & ((1 << UInt64(n)) &- 1)) }

    @inline(__always)
    mutating func consume(_ n: Int) {
        buffer >>= UInt64(n)
        bitCount -= n
    }

    /// Reads `n` bits (n <= 32), refilling first.
    @inline(__always)
    mutating func read(_ n: Int) throws(ImageDecodingError) -> Int {
        if bitCount < n { try refill() }
        let value = peek(n)
        consume(n)
        return value
    }

    /// Drops the bits up to the next byte boundary and empties the buffer, so that `position` is
    /// the next unread byte (for stored blocks and the zlib trailer).
    mutating func alignToByte() {
        consume(bitCount & 7)
        position -= bitCount >> 3
        buffer = 0
        bitCount = 0
    }
}
