/// Bulk conversion between little-endian byte runs and fixed-width scalars: one copy, no per-byte appends.
enum LittleEndianBytes {
    /// The first `range.count / size` values of type `T` stored in `bytes[range]`, copied raw.
    /// Callers fix the byte order on big-endian hosts.
    private static func copy<T>(_: T.Type, _ bytes: [UInt8], _ range: Range<Int>) -> [T] {
        let count = range.count / MemoryLayout<T>.stride
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            bytes.withUnsafeBytes { source in
                let start = range.lowerBound
                let byteCount = count * MemoryLayout<T>.stride
                UnsafeMutableRawBufferPointer(buffer).copyMemory(
                    from: UnsafeRawBufferPointer(rebasing: source[start..<(start + byteCount)]))
            }
            initialized = count
        }
    }

    /// The integers stored little-endian in `bytes[range]`; a trailing partial value is ignored (callers check lengths).
    static func scalars<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], _ range: Range<Int>) -> [T] {
        var values = copy(T.self, bytes, range)
        #if _endian(big)
        for i in values.indices { values[i] = T(littleEndian: values[i]) }
        #endif
        return values
    }

    /// float32 values stored little-endian in `bytes[range]`, in a single copy.
    static func floats(_ bytes: [UInt8], _ range: Range<Int>) -> [Float] {
        var values = copy(Float.self, bytes, range)
        #if _endian(big)
        for i in values.indices { values[i] = Float(bitPattern: UInt32(littleEndian: values[i].bitPattern)) }
        #endif
        return values
    }

    /// The little-endian bytes of `values`, in one copy.
    static func bytes<T: FixedWidthInteger>(of values: [T]) -> [UInt8] {
        #if _endian(big)
        let values = values.map { $0.littleEndian }
        #endif
        return values.withUnsafeBytes { Array($0) }
    }

    /// The little-endian bytes of float32 values, in one copy.
    static func bytes(of values: [Float]) -> [UInt8] {
        #if _endian(big)
        return bytes(of: values.map(\.bitPattern))
        #else
        return values.withUnsafeBytes { Array($0) }
        #endif
    }
}
