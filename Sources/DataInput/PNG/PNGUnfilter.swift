/// Reverses PNG's per-scanline filters (spec §9) in place.
enum PNGUnfilter {
    /// Reconstructs one scanline in place.
    /// - Parameters:
    ///   - filter: the scanline's filter-type byte (0 none, 1 sub, 2 up, 3 average, 4 Paeth).
    ///   - row: the `count` filtered bytes, replaced by the reconstructed ones.
    ///   - previous: the previous reconstructed scanline of the same pass, nil for its first row
    ///     (then treated as zeros, as the spec says).
    ///   - stride: bytes per complete pixel, at least 1.
    /// Throws `.corrupt` for a filter type above 4 (`where` says which row, for the message).
    static func apply(filter: UInt8, row: UnsafeMutablePointer<UInt8>, previous: UnsafePointer<UInt8>?,
                      count: Int, stride: Int, where location: @autoclosure () -> String) throws(ImageDecodingError) {
        switch filter {
        case 0:
            return
        case 1:
            sub(row, count: count, stride: stride)
        case 2:
            guard let previous else { return }
            for i in 0..<count { row[i] &+= previous[i] }
        case 3:
            if let previous {
                for i in 0..<min(stride, count) { row[i] &+= previous[i] >> 1 }
                var i = stride
                while i < count {
                    row[i] &+= UInt8(truncatingIfNeeded: (UInt16(row[i - stride]) + UInt16(previous[i])) >> 1)
                    i += 1
                }
            } else {
                var i = stride
                while i < count {
                    row[i] &+= row[i - stride] >> 1
                    i += 1
                }
            }
        case 4:
            guard let previous else {
                // Paeth with an all-zero previous row predicts the left byte: the same as sub.
                sub(row, count: count, stride: stride)
                return
            }
            switch stride {
            case 3: paethRow3(row, previous, count: count)
            default:
                for i in 0..<min(stride, count) { row[i] &+= previous[i] }
                var i = stride
                while i < count {
                    row[i] &+= paeth(Int(row[i - stride]), Int(previous[i]), Int(previous[i - stride]))
                    i += 1
                }
            }
        default:
            throw ImageDecodingError(.corrupt, "png: \(location()): filter type \(filter), expected 0 to 4")
        }
    }

    @inline(__always)
    private static func sub(_ row: UnsafeMutablePointer<UInt8>, count: Int, stride: Int) {
        var i = stride
        while i < count {
            row[i] &+= row[i - stride]
            i += 1
        }
    }

    /// Paeth for 3-byte pixels (8-bit RGB, the common photo case): the three channels' left and
    /// upper-left bytes stay in registers, and their independent chains interleave.
    @inline(__always)
    private static func paethRow3(_ row: UnsafeMutablePointer<UInt8>, _ previous: UnsafePointer<UInt8>, count: Int) {
        guard count >= 3 else { return }
        var a0 = Int(row[0] &+ previous[0]), a1 = Int(row[1] &+ previous[1]), a2 = Int(row[2] &+ previous[2])
        var c0 = Int(previous[0]), c1 = Int(previous[1]), c2 = Int(previous[2])
        row[0] = UInt8(truncatingIfNeeded: a0); row[1] = UInt8(truncatingIfNeeded: a1); row[2] = UInt8(truncatingIfNeeded: a2)
        var i = 3
        while i + 3 <= count {
            let b0 = Int(previous[i]), b1 = Int(previous[i + 1]), b2 = Int(previous[i + 2])
            a0 = Int(row[i] &+ paeth(a0, b0, c0))
            a1 = Int(row[i + 1] &+ paeth(a1, b1, c1))
            a2 = Int(row[i + 2] &+ paeth(a2, b2, c2))
            row[i] = UInt8(truncatingIfNeeded: a0); row[i + 1] = UInt8(truncatingIfNeeded: a1); row[i + 2] = UInt8(truncatingIfNeeded: a2)
            c0 = b0; c1 = b1; c2 = b2
            i += 3
        }
    }

    /// |x| without the overflow trap of `abs` (inputs are within ±510 here).
    @inline(__always)
    private static func magnitude(_ x: Int) -> Int {
        let sign = x >> 63
        return (x ^ sign) &- sign
    }

    /// The predictor of spec §9.4: whichever of left, up, upper-left is closest to left + up - upper-left.
    @inline(__always)
    static func paeth(_ a: Int, _ b: Int, _ c: Int) -> UInt8 {
        let pa = magnitude(b &- c)
        let pb = magnitude(a &- c)
        let pc = magnitude(a &+ b &- c &- c)
        let bOrC = pb <= pc ? b : c
        return UInt8(truncatingIfNeeded: pa <= pb && pa <= pc ? a : bOrC)
    }
}
