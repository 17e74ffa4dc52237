/// How the decoded components map to output pixels.
enum JPEGColorTransform: Sendable {
    /// One component, output as grey (Pillow mode "L").
    case grey
    /// Three components stored as YCbCr (JFIF), converted to RGB.
    case yCbCr
    /// Three components stored as RGB (Adobe transform 0, or component ids 'R','G','B').
    case rgb
}

/// libjpeg's integer YCbCr → RGB conversion (jdcolor.c): 16-bit fixed-point tables with
/// round-half-up (`ONE_HALF`), green from the sum of two table entries shifted right by 16, then
/// clamped to 0...255. Bit-identical to libjpeg for every input triple.
enum JPEGColorConverter {
    private static let scaleBits = 16
    private static let oneHalf = 1 << 15

    private static func fix(_ x: Double) -> Int { Int(x * 65536 + 0.5) }

    /// R = Y + crToR[Cr], B = Y + cbToB[Cb], G = Y + ((cbToG[Cb] + crToG[Cr]) >> 16).
    static let crToR: [Int32] = (0..<256).map { Int32((fix(1.40200) * ($0 - 128) + oneHalf) >> scaleBits) }
    static let cbToB: [Int32] = (0..<256).map { Int32((fix(1.77200) * ($0 - 128) + oneHalf) >> scaleBits) }
    static let crToG: [Int32] = (0..<256).map { Int32(-fix(0.71414) * ($0 - 128)) }
    static let cbToG: [Int32] = (0..<256).map { Int32(-fix(0.34414) * ($0 - 128) + oneHalf) }

    /// Converts one row of `width` pixels to interleaved RGB.
    @inline(__always)
    static func convertRow(y: UnsafePointer<UInt8>, cb: UnsafePointer<UInt8>, cr: UnsafePointer<UInt8>,
                           width: Int, out: UnsafeMutablePointer<UInt8>,
                           tables: (crToR: UnsafePointer<Int32>, cbToB: UnsafePointer<Int32>,
                                    crToG: UnsafePointer<Int32>, cbToG: UnsafePointer<Int32>)) {
        for x in 0..<width {
            let luma = Int32(y[x])
            let blue = Int(cb[x]), red = Int(cr[x])
            let r = luma + tables.crToR[red]
            let g = luma + ((tables.cbToG[blue] + tables.crToG[red]) >> 16)
            let b = luma + tables.cbToB[blue]
            out[3 * x] = UInt8(truncatingIfNeeded: min(max(r, 0), 255))
            out[3 * x + 1] = UInt8(truncatingIfNeeded: min(max(g, 0), 255))
            out[3 * x + 2] = UInt8(truncatingIfNeeded: min(max(b, 0), 255))
        }
    }
}
