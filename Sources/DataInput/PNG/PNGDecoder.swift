/// Decodes PNG files (ISO/IEC 15948) into `DecodedImage`, with exactly the pixels PIL gives after
/// `convert("L")` (grey, grey+alpha) or `convert("RGB")` (RGB, RGBA, palette); see
/// `PNGPixelWriter` for the per-format rules and docs/png.md for the policy.
///
/// Every chunk's CRC is checked. Ancillary chunks are skipped; an unknown critical chunk is
/// `.unsupported`. Width × height is checked against `limits` from IHDR, before any allocation;
/// the image data must inflate to exactly the size IHDR implies, so a zlib "bomb" stops at that
/// size. Errors carry the byte offset of the chunk concerned.
public enum PNGDecoder {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    public static func decode(_ bytes: [UInt8], limits: ImageLimits) throws(ImageDecodingError) -> DecodedImage {
        let chunks = try PNGChunks.read(bytes, limits: limits)
        let header = chunks.header
        guard let inflatedSize = header.inflatedSize else {
            throw ImageDecodingError(.tooLarge, "png: IHDR: \(header.width)x\(header.height) image data size overflows (lower --max-pixels)")
        }
        // DEFLATE cannot expand more than 1032:1 (a 258-byte match in 2 bits), so a short IDAT
        // that claims a huge image is refused before the output is allocated.
        let (bound, overflow) = chunks.imageData.count.multipliedReportingOverflow(by: 1032)
        guard overflow || inflatedSize <= bound + 1024 else {
            throw ImageDecodingError(.corrupt, "png: IDAT: \(chunks.imageData.count) compressed bytes cannot inflate to the \(inflatedSize) bytes IHDR implies", offset: chunks.firstImageDataOffset)
        }
        let writer = PNGPixelWriter(header: header, palette: chunks.palette)
        let channels = header.outputChannels
        let pixelCount = header.width * header.height * channels
        let pixels: [UInt8]
        do {
            pixels = try chunks.imageData.withUnsafeBufferPointer { (input) throws(ImageDecodingError) -> [UInt8] in
                try ZlibInflater.inflate(input, expectedSize: inflatedSize, limit: inflatedSize,
                                         limitError: (.corrupt, "the \(inflatedSize) bytes IHDR implies (a zlib bomb?)")) { (data, _) throws(ImageDecodingError) -> [UInt8] in
                    try [UInt8](unsafeUninitializedCapacity: pixelCount) { (buffer, initialized) throws(ImageDecodingError) in
                        guard let out = buffer.baseAddress else { return }
                        try reconstruct(data, header: header, writer: writer, into: out)
                        initialized = pixelCount
                    }
                }
            }
        } catch {
            var located = error
            if located.offset == nil { located.offset = chunks.firstImageDataOffset }
            throw located
        }
        return DecodedImage(width: header.width, height: header.height, channels: channels, pixels: pixels)
    }

    /// Unfilters the scanline stream in place, pass by pass, and writes every pixel of the output
    /// (Adam7's passes together cover each pixel exactly once).
    private static func reconstruct(_ data: UnsafeMutablePointer<UInt8>, header: PNGHeader, writer: PNGPixelWriter,
                                    into out: UnsafeMutablePointer<UInt8>) throws(ImageDecodingError) {
        let channels = header.outputChannels
        let stride = header.filterStride
        var position = 0
        for (index, pass) in header.passes.enumerated() where !pass.isEmpty {
            let rowBytes = header.rowBytes(pixels: pass.width)
            var previous: UnsafePointer<UInt8>? = nil
            for y in 0..<pass.height {
                let row = data + position + 1
                try PNGUnfilter.apply(filter: data[position], row: row, previous: previous, count: rowBytes, stride: stride,
                                      where: header.interlaced ? "pass \(index + 1) row \(y)" : "row \(y)")
                let outY = pass.yStart + y * pass.yStep
                writer.write(row: row, count: pass.width,
                             to: out + (outY * header.width + pass.xStart) * channels, step: pass.xStep * channels)
                previous = UnsafePointer(row)
                position += 1 + rowBytes
            }
        }
    }
}
