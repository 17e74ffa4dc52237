/// Inflates a zlib stream (RFC 1950: a 2-byte header, DEFLATE data, a big-endian Adler-32 of the
/// output).
///
/// Refuses, with `ImageDecodingError`: a bad header or a preset dictionary (`.corrupt` /
/// `.unsupported`), malformed DEFLATE data (`.corrupt`), a stream that ends early (`.truncated`), a
/// wrong Adler-32 (`.corrupt`), and output beyond `maxSize` (`.tooLarge`) — so a small "bomb"
/// cannot make it allocate or work more than `maxSize` bytes' worth.
public enum ZlibInflater {
    /// - Parameters:
    ///   - expectedSize: when given, the stream must inflate to exactly this many bytes (more is
    ///     `.corrupt`, fewer `.truncated`), and the output is allocated once at that size;
    ///     when nil, the output grows by doubling up to `maxSize`.
    ///   - maxSize: largest output accepted.
    /// Bytes after the Adler-32 trailer are ignored.
    public static func inflate(_ bytes: [UInt8], expectedSize: Int?, maxSize: Int) throws(ImageDecodingError) -> [UInt8] {
        guard maxSize >= 0, (expectedSize ?? 0) >= 0 else {
            throw ImageDecodingError(.corrupt, "zlib: sizes must not be negative, got expected \(expectedSize ?? 0), max \(maxSize)")
        }
        if let expectedSize, expectedSize > maxSize {
            throw ImageDecodingError(.tooLarge, "zlib: expected size \(expectedSize) exceeds the \(maxSize)-byte limit")
        }
        let limitError: (ImageDecodingError.Kind, String) = expectedSize == nil
            ? (.tooLarge, "the \(maxSize)-byte limit")
            : (.corrupt, "the expected \(expectedSize ?? 0) bytes")
        return try bytes.withUnsafeBufferPointer { (input) throws(ImageDecodingError) -> [UInt8] in
            try inflate(input, expectedSize: expectedSize, limit: expectedSize ?? maxSize, limitError: limitError) { output, count in
                [UInt8](UnsafeBufferPointer(start: output, count: count))
            }
        }
    }

    /// Inflates `input` and hands the output (valid until `body` returns) to `body`.
    /// The PNG decoder uses this to unfilter in place without copying.
    static func inflate<R>(_ input: UnsafeBufferPointer<UInt8>, expectedSize: Int?, limit: Int,
                           limitError: (ImageDecodingError.Kind, String),
                           _ body: (UnsafeMutablePointer<UInt8>, Int) throws(ImageDecodingError) -> R) throws(ImageDecodingError) -> R {
        guard let base = input.baseAddress, input.count >= 2 else {
            throw ImageDecodingError(.truncated, "zlib: header needs 2 bytes, got \(input.count)")
        }
        let cmf = Int(base[0]), flags = Int(base[1])
        guard cmf & 15 == 8, cmf >> 4 <= 7 else {
            throw ImageDecodingError(.corrupt, "zlib: header: expected deflate with a window of at most 32 KiB, got method \(cmf & 15), window code \(cmf >> 4)")
        }
        guard (cmf << 8 | flags) % 31 == 0 else {
            throw ImageDecodingError(.corrupt, "zlib: header check bits are wrong (0x\(String(cmf << 8 | flags, radix: 16)))")
        }
        guard flags & 0x20 == 0 else {
            throw ImageDecodingError(.unsupported, "zlib: preset dictionary")
        }
        let capacity = expectedSize ?? min(limit, max(4096, input.count.multipliedReportingOverflow(by: 4).partialValue))
        let output = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity + DeflateDecoder.slack)
        var decoder = DeflateDecoder(
            reader: DeflateBitReader(base: base, count: input.count, position: 2),
            output: output, capacity: capacity, limit: limit, growable: expectedSize == nil, limitError: limitError)
        defer { decoder.output.deallocate() }
        try decoder.decodeAll()
        if let expectedSize, decoder.count < expectedSize {
            throw ImageDecodingError(.truncated, "zlib: inflated to \(decoder.count) bytes, expected \(expectedSize)")
        }
        let trailer = decoder.reader.position
        guard trailer + 4 <= input.count else {
            throw ImageDecodingError(.truncated, "zlib: adler-32 trailer needs 4 bytes, got \(max(0, input.count - trailer))")
        }
        let stored = UInt32(base[trailer]) << 24 | UInt32(base[trailer + 1]) << 16 | UInt32(base[trailer + 2]) << 8 | UInt32(base[trailer + 3])
        let computed = ZlibAdler32.checksum(UnsafeBufferPointer(start: decoder.output, count: decoder.count))
        guard stored == computed else {
            throw ImageDecodingError(.corrupt, "zlib: adler-32: expected 0x\(String(computed, radix: 16)) from the data, got 0x\(String(stored, radix: 16)) in the trailer")
        }
        return try body(decoder.output, decoder.count)
    }
}

/// Adler-32 (RFC 1950 §8.2).
enum ZlibAdler32 {
    static func checksum(_ data: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        guard let base = data.baseAddress else { return 1 }
        var i = 0
        while i < data.count {
            // 5552 is the most bytes for which b cannot overflow 32 bits before the modulo.
            let end = min(data.count, i + 5552)
            while i < end {
                a &+= UInt32(base[i])
                b &+= a
                i += 1
            }
            a %= 65521
            b %= 65521
        }
        return b << 16 | a
    }
}
