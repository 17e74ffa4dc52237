/// The header of a Netpbm file (P1–P6), read token by token as Pillow's PpmImagePlugin reads it:
/// tokens are separated by whitespace (space, \t, \n, \v, \f, \r), `#` starts a comment that runs
/// to the next \r or \n, a token has at most 10 characters, and exactly one whitespace byte ends
/// the last token before the raster.
struct PPMHeader {
    enum Format {
        /// P1 (plain) / P4 (raw): 1 bit per pixel, 1 = black.
        case bitmap
        /// P2 / P5: one sample per pixel.
        case grey
        /// P3 / P6: three samples per pixel.
        case rgb
    }

    let format: Format
    let plain: Bool
    let width: Int
    let height: Int
    /// 1 for bitmaps; otherwise 1...65535.
    let maxValue: Int
    /// Offset of the first raster byte.
    let dataOffset: Int

    var samplesPerPixel: Int { format == .rgb ? 3 : 1 }

    static let whitespace: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D]

    /// Throws `.unsupported` for PF/Pf (float) and other magics, `.corrupt` for a malformed header,
    /// `.truncated` when the file ends inside it, `.tooLarge` when width × height exceeds the limit.
    static func parse(_ bytes: [UInt8], limits: ImageLimits) throws(ImageDecodingError) -> PPMHeader {
        guard bytes.count >= 2 else {
            throw ImageDecodingError(.truncated, "ppm: magic number needs 2 bytes, got \(bytes.count)", offset: 0)
        }
        guard bytes[0] == UInt8(ascii: "P") else {
            throw ImageDecodingError(.corrupt, "ppm: magic number: expected P1 to P6", offset: 0)
        }
        let format: Format
        let plain: Bool
        switch bytes[1] {
        case UInt8(ascii: "1"): (format, plain) = (.bitmap, true)
        case UInt8(ascii: "2"): (format, plain) = (.grey, true)
        case UInt8(ascii: "3"): (format, plain) = (.rgb, true)
        case UInt8(ascii: "4"): (format, plain) = (.bitmap, false)
        case UInt8(ascii: "5"): (format, plain) = (.grey, false)
        case UInt8(ascii: "6"): (format, plain) = (.rgb, false)
        case UInt8(ascii: "F"), UInt8(ascii: "f"):
            throw ImageDecodingError(.unsupported, "ppm: floating-point PFM files (PF/Pf)", offset: 0)
        default:
            throw ImageDecodingError(.corrupt, "ppm: magic number: expected P1 to P6, got P\(Unicode.Scalar(bytes[1]))", offset: 0)
        }
        guard bytes.count > 2, whitespace.contains(bytes[2]) else {
            throw ImageDecodingError(.corrupt, "ppm: magic number must be followed by whitespace", offset: 2)
        }
        var position = 3
        let width = try readNumber(bytes, &position, what: "width")
        let height = try readNumber(bytes, &position, what: "height")
        guard width > 0, height > 0 else {
            throw ImageDecodingError(.corrupt, "ppm: dimensions must be positive, got \(width)x\(height)", offset: position)
        }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, pixels <= limits.maxPixels else {
            throw ImageDecodingError(.tooLarge, "ppm: \(width)x\(height) pixels exceeds the limit of \(limits.maxPixels) pixels (raise it with --max-pixels)", offset: position)
        }
        var maxValue = 1
        if format != .bitmap {
            maxValue = try readNumber(bytes, &position, what: "maxval")
            guard (1...65535).contains(maxValue) else {
                throw ImageDecodingError(.corrupt, "ppm: maxval must be 1 to 65535, got \(maxValue)", offset: position)
            }
        }
        return PPMHeader(format: format, plain: plain, width: width, height: height, maxValue: maxValue, dataOffset: position)
    }

    /// Reads a decimal token, skipping whitespace and comments before it (and inside it, as Pillow
    /// does), and the one whitespace byte after it.
    private static func readNumber(_ bytes: [UInt8], _ position: inout Int, what: String) throws(ImageDecodingError) -> Int {
        let start = position
        var digits: [UInt8] = []
        while position < bytes.count {
            let c = bytes[position]
            position += 1
            if whitespace.contains(c) {
                if digits.isEmpty { continue }
                break
            }
            if c == UInt8(ascii: "#") {
                while position < bytes.count, bytes[position] != 0x0A, bytes[position] != 0x0D { position += 1 }
                position += 1
                continue
            }
            digits.append(c)
            guard digits.count <= 10 else {
                throw ImageDecodingError(.corrupt, "ppm: \(what): token longer than 10 characters", offset: start)
            }
        }
        guard !digits.isEmpty else {
            throw ImageDecodingError(.truncated, "ppm: header ends before the \(what)", offset: start)
        }
        var value = 0
        for d in digits {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(d) else {
                throw ImageDecodingError(.corrupt, "ppm: \(what): expected a decimal number, got \"\(String(decoding: digits, as: UTF8.self))\"", offset: start)
            }
            value = value * 10 + Int(d - UInt8(ascii: "0"))
        }
        return value
    }
}
