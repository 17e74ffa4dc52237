/// CRC-32 as PNG uses it (ISO 3309 / ITU-T V.42, polynomial 0xEDB88320 reflected), slicing by 8.
enum PNGCRC32 {
    /// Eight 256-entry tables, flattened: table k advances the CRC over a byte followed by k zero bytes.
    private static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for n in 0..<256 {
            var c = UInt32(n)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            t[n] = c
        }
        for k in 1..<8 {
            for n in 0..<256 {
                let previous = t[(k - 1) * 256 + n]
                t[k * 256 + n] = previous >> 8 ^ t[Int(previous & 0xFF)]
            }
        }
        return t
    }()

    /// The CRC of `data`, continuing from `crc` (pass the result of a previous call to chain).
    static func checksum(_ data: UnsafeBufferPointer<UInt8>, continuing crc: UInt32 = 0) -> UInt32 {
        guard var p = data.baseAddress else { return crc }
        var remaining = data.count
        var c = ~crc
        tables.withUnsafeBufferPointer { t in
            while remaining >= 8 {
                let raw = UnsafeRawPointer(p)
                let one = UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self)) ^ c
                let two = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
                c = t[7 * 256 + Int(one & 0xFF)] ^ t[6 * 256 + Int(one >> 8 & 0xFF)]
                    ^ t[5 * 256 + Int(one >> 16 & 0xFF)] ^ t[4 * 256 + Int(one >> 24)]
                    ^ t[3 * 256 + Int(two & 0xFF)] ^ t[2 * 256 + Int(two >> 8 & 0xFF)]
                    ^ t[1 * 256 + Int(two >> 16 & 0xFF)] ^ t[Int(two >> 24)]
                p += 8
                remaining -= 8
            }
            while remaining > 0 {
                c = t[Int((c ^ UInt32(p.pointee)) & 0xFF)] ^ c >> 8
                p += 1
                remaining -= 1
            }
        }
        return ~c
    }
}
