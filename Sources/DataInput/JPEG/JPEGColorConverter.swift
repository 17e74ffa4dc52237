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

    /// Converts one row of `width` pixels to interleaved RGB. The table entries of jdcolor.c are
    /// computed inline (same formulas, same integer rounding), which lets the loop vectorise:
    /// R = Y + ((91881·(Cr−128) + 2^15) >> 16), B = Y + ((116130·(Cb−128) + 2^15) >> 16),
    /// G = Y + ((−22554·(Cb−128) + 2^15 − 46802·(Cr−128)) >> 16), each clamped to 0...255.
    @inline(__always)
    static func convertRow(y: UnsafePointer<UInt8>, cb: UnsafePointer<UInt8>, cr: UnsafePointer<UInt8>,
                           width: Int, out: UnsafeMutablePointer<UInt8>) {
        let crToR = Int32(fix(1.40200)), cbToB = Int32(fix(1.77200))
        let crToG = Int32(fix(0.71414)), cbToG = Int32(fix(0.34414))
        let half = Int32(oneHalf)
        for x in 0..<width {
            let luma = Int32(y[x])
            let blue = Int32(cb[x]) &- 128, red = Int32(cr[x]) &- 128
            let r = luma &+ ((crToR &* red &+ half) &>> 16)
            let g = luma &+ ((half &- cbToG &* blue &- crToG &* red) &>> 16)
            let b = luma &+ ((cbToB &* blue &+ half) &>> 16)
            out[3 * x] = UInt8(truncatingIfNeeded: min(max(r, 0), 255))
            out[3 * x + 1] = UInt8(truncatingIfNeeded: min(max(g, 0), 255))
            out[3 * x + 2] = UInt8(truncatingIfNeeded: min(max(b, 0), 255))
        }
    }
}
