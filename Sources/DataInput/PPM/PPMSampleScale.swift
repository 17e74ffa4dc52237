/// How Pillow maps a Netpbm sample to the 8-bit output (PpmImagePlugin, then `convert`):
///
/// - maxval 255: the byte as is;
/// - other maxval, colour (P3/P6) or grey up to 255: `min(255, round(v / maxval * 255))`;
/// - grey with maxval above 255: Pillow builds a 32-bit `I` image of `round(v / maxval * 65535)`
///   (65535: the raw value) and `convert("L")` clips it, so `min(255, round(v / maxval * 65535))`
///   — a 16-bit PGM comes out nearly white, exactly as torchvision would see it.
/// `round` is Python's (half to even), on doubles evaluated in the same order.
struct PPMSampleScale {
    /// Output for each raw value 0...65535 that can occur (values above maxval clip to 255).
    private let table: [UInt8]

    init(maxValue: Int, grey: Bool) {
        let wide = grey && maxValue > 255
        let top = wide ? 65535.0 : 255.0
        let size = maxValue < 256 ? 256 : 65536
        var table = [UInt8](repeating: 255, count: size)
        for v in 0..<min(size, maxValue + 1) {
            let scaled = maxValue == 255 && !wide ? v : PPMSampleScale.roundHalfEven(Double(v) / Double(maxValue) * top)
            table[v] = UInt8(min(255, scaled))
        }
        self.table = table
    }

    /// Python's `round` for a non-negative double below 2^52 (no libm needed).
    static func roundHalfEven(_ x: Double) -> Int {
        let whole = Int(x)
        let fraction = x - Double(whole)
        if fraction > 0.5 || (fraction == 0.5 && whole & 1 == 1) { return whole + 1 }
        return whole
    }

    /// Maps `count` raw samples (1 byte each if maxval < 256, else 2, big-endian) from `source`.
    func map(_ source: UnsafePointer<UInt8>, count: Int, wide: Bool, into destination: UnsafeMutablePointer<UInt8>) {
        table.withUnsafeBufferPointer { t in
            if wide {
                for i in 0..<count { destination[i] = t[Int(source[2 * i]) << 8 | Int(source[2 * i + 1])] }
            } else {
                for i in 0..<count { destination[i] = t[Int(source[i])] }
            }
        }
    }
}
