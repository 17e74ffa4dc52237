/// The IHDR chunk, validated (PNG spec §11.2.2), and the image-data layout it implies.
struct PNGHeader {
    enum ColorType: Int {
        case grey = 0, rgb = 2, palette = 3, greyAlpha = 4, rgba = 6

        var samplesPerPixel: Int {
            switch self {
            case .grey, .palette: 1
            case .greyAlpha: 2
            case .rgb: 3
            case .rgba: 4
            }
        }

        var allowedBitDepths: [Int] {
            switch self {
            case .grey: [1, 2, 4, 8, 16]
            case .palette: [1, 2, 4, 8]
            case .rgb, .greyAlpha, .rgba: [8, 16]
            }
        }
    }

    let width: Int
    let height: Int
    let bitDepth: Int
    let colorType: ColorType
    let interlaced: Bool

    /// Output channels: grey and grey+alpha give 1 (as PIL's `convert("L")`), the rest 3.
    var outputChannels: Int { colorType == .grey || colorType == .greyAlpha ? 1 : 3 }
    var bitsPerPixel: Int { colorType.samplesPerPixel * bitDepth }
    /// The filter's byte distance to "the corresponding byte of the previous pixel" (at least 1).
    var filterStride: Int { max(1, bitsPerPixel / 8) }

    /// Bytes in one scanline of `pixels` pixels, without the filter-type byte.
    func rowBytes(pixels: Int) -> Int { (pixels * bitsPerPixel + 7) / 8 }

    /// One sub-image of the scanline stream: the whole image, or one of Adam7's seven passes.
    struct Pass {
        let xStart: Int, yStart: Int, xStep: Int, yStep: Int
        let width: Int, height: Int
        var isEmpty: Bool { width == 0 || height == 0 }
    }

    var passes: [Pass] {
        let grid: [(Int, Int, Int, Int)] = interlaced
            ? [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
            : [(0, 0, 1, 1)]
        return grid.map { x0, y0, dx, dy in
            Pass(xStart: x0, yStart: y0, xStep: dx, yStep: dy,
                 width: width > x0 ? (width - x0 + dx - 1) / dx : 0,
                 height: height > y0 ? (height - y0 + dy - 1) / dy : 0)
        }
    }

    /// Bytes of the inflated scanline stream: per non-empty pass, rows × (1 + row bytes);
    /// nil if that does not fit in an `Int` (only possible with an enormous `maxPixels`).
    var inflatedSize: Int? {
        var total = 0
        for pass in passes where !pass.isEmpty {
            let (bits, o1) = pass.width.multipliedReportingOverflow(by: bitsPerPixel)
            let (rows, o2) = pass.height.multipliedReportingOverflow(by: 1 + (bits + 7) / 8)
            let (sum, o3) = total.addingReportingOverflow(rows)
            if o1 || o2 || o3 { return nil }
            total = sum
        }
        return total
    }

    /// Parses IHDR's 13 bytes; `offset` is the chunk's file offset, for messages.
    ///
    /// Throws `.corrupt` for a wrong length, a zero or over-2^31 dimension, a bit depth not allowed
    /// for the colour type, or unknown compression/filter/interlace methods; `.tooLarge` when
    /// width × height exceeds `limits.maxPixels` — before anything is allocated.
    static func parse(_ data: ArraySlice<UInt8>, offset: Int, limits: ImageLimits) throws(ImageDecodingError) -> PNGHeader {
        guard data.count == 13 else {
            throw ImageDecodingError(.corrupt, "png: IHDR: expected 13 bytes, got \(data.count)", offset: offset)
        }
        let b = Array(data)
        let width = Int(b[0]) << 24 | Int(b[1]) << 16 | Int(b[2]) << 8 | Int(b[3])
        let height = Int(b[4]) << 24 | Int(b[5]) << 16 | Int(b[6]) << 8 | Int(b[7])
        guard width > 0, height > 0, width <= 0x7FFF_FFFF, height <= 0x7FFF_FFFF else {
            throw ImageDecodingError(.corrupt, "png: IHDR: dimensions must be 1 to 2^31-1, got \(width)x\(height)", offset: offset)
        }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, pixels <= limits.maxPixels else {
            throw ImageDecodingError(.tooLarge, "png: IHDR: \(width)x\(height) pixels exceeds the limit of \(limits.maxPixels) pixels (raise it with --max-pixels)", offset: offset)
        }
        guard let colorType = ColorType(rawValue: Int(b[9])) else {
            throw ImageDecodingError(.corrupt, "png: IHDR: colour type \(b[9]), expected 0, 2, 3, 4 or 6", offset: offset)
        }
        let bitDepth = Int(b[8])
        guard colorType.allowedBitDepths.contains(bitDepth) else {
            throw ImageDecodingError(.corrupt, "png: IHDR: bit depth \(bitDepth) is not allowed for colour type \(colorType.rawValue), expected one of \(colorType.allowedBitDepths)", offset: offset)
        }
        guard b[10] == 0, b[11] == 0 else {
            throw ImageDecodingError(.unsupported, "png: IHDR: compression method \(b[10]) and filter method \(b[11]), expected 0 and 0", offset: offset)
        }
        guard b[12] <= 1 else {
            throw ImageDecodingError(.unsupported, "png: IHDR: interlace method \(b[12]), expected 0 or 1", offset: offset)
        }
        return PNGHeader(width: width, height: height, bitDepth: bitDepth, colorType: colorType, interlaced: b[12] == 1)
    }
}
