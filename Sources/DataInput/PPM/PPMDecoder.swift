/// Decodes Netpbm files — PGM (P5, P2), PPM (P6, P3) and PBM (P4, P1) — into `DecodedImage`, with
/// exactly the pixels of Pillow's `Image.open(f).convert("L")` (PBM, PGM: 1 channel) or
/// `.convert("RGB")` (PPM: 3 channels). Sample scaling follows `PPMSampleScale`.
///
/// Raw rasters shorter than width × height samples are `.truncated`; bytes after the raster are
/// ignored (as Pillow does). In plain (ASCII) rasters a sample above maxval, a token longer than 10
/// characters or a non-number is `.corrupt`. PFM (PF/Pf) is `.unsupported`.
public enum PPMDecoder {
    public static func decode(_ bytes: [UInt8], limits: ImageLimits) throws(ImageDecodingError) -> DecodedImage {
        let header = try PPMHeader.parse(bytes, limits: limits)
        let channels = header.samplesPerPixel
        let (samples, overflow) = (header.width * header.height).multipliedReportingOverflow(by: channels)
        guard !overflow else {
            throw ImageDecodingError(.tooLarge, "ppm: \(header.width)x\(header.height)x\(channels) samples overflow (lower --max-pixels)")
        }
        let pixels = header.plain
            ? try PPMPlainRaster.read(bytes, header: header, samples: samples)
            : try readRaw(bytes, header: header, samples: samples)
        return DecodedImage(width: header.width, height: header.height, channels: channels, pixels: pixels)
    }

    private static func readRaw(_ bytes: [UInt8], header: PPMHeader, samples: Int) throws(ImageDecodingError) -> [UInt8] {
        let available = bytes.count - header.dataOffset
        if header.format == .bitmap {
            let rowBytes = (header.width + 7) / 8
            let (needed, overflow) = rowBytes.multipliedReportingOverflow(by: header.height)
            guard !overflow, available >= needed else {
                throw ImageDecodingError(.truncated, "ppm: P4 raster: expected \(rowBytes) x \(header.height) bytes, got \(available)", offset: header.dataOffset)
            }
            var pixels = [UInt8](repeating: 0, count: samples)
            for y in 0..<header.height {
                let row = header.dataOffset + y * rowBytes
                for x in 0..<header.width {
                    let bit = bytes[row + x >> 3] >> UInt8(7 - x & 7) & 1
                    pixels[y * header.width + x] = bit == 1 ? 0 : 255
                }
            }
            return pixels
        }
        let wide = header.maxValue > 255
        let bytesPerSample = wide ? 2 : 1
        guard available / bytesPerSample >= samples else {
            throw ImageDecodingError(.truncated, "ppm: raster: expected \(samples * bytesPerSample) bytes, got \(available)", offset: header.dataOffset)
        }
        if header.maxValue == 255 {
            return Array(bytes[header.dataOffset..<(header.dataOffset + samples)])
        }
        let scale = PPMSampleScale(maxValue: header.maxValue, grey: header.format == .grey)
        return [UInt8](unsafeUninitializedCapacity: samples) { buffer, initialized in
            bytes.withUnsafeBufferPointer { source in
                guard let base = source.baseAddress, let out = buffer.baseAddress else { return }
                scale.map(base + header.dataOffset, count: samples, wide: wide, into: out)
            }
            initialized = samples
        }
    }
}

/// The raster of a plain (ASCII) Netpbm file, read as Pillow's PpmPlainDecoder reads it: comments
/// (`#` to the next \r or \n) are cut out wherever they are, even inside a number; samples are
/// whitespace-separated decimals (PBM: each `0` or `1` character is one pixel, no separator needed).
enum PPMPlainRaster {
    static func read(_ bytes: [UInt8], header: PPMHeader, samples: Int) throws(ImageDecodingError) -> [UInt8] {
        // Every sample takes at least one byte, so a short file is refused before allocating.
        guard bytes.count - header.dataOffset >= samples else {
            throw ImageDecodingError(.truncated, "ppm: plain raster: expected \(samples) samples, the file has \(bytes.count - header.dataOffset) bytes left", offset: header.dataOffset)
        }
        var pixels = [UInt8](repeating: 0, count: samples)
        var filled = 0
        var position = header.dataOffset
        var token = 0
        var tokenLength = 0
        var tokenStart = position
        let wide = header.format == .grey && header.maxValue > 255
        let top = wide ? 65535.0 : 255.0

        func finishToken() throws(ImageDecodingError) {
            guard token <= header.maxValue else {
                throw ImageDecodingError(.corrupt, "ppm: plain raster: sample \(token) exceeds maxval \(header.maxValue)", offset: tokenStart)
            }
            pixels[filled] = UInt8(min(255, PPMSampleScale.roundHalfEven(Double(token) / Double(header.maxValue) * top)))
            filled += 1
            token = 0
            tokenLength = 0
        }

        while position < bytes.count && filled < samples {
            let c = bytes[position]
            if c == UInt8(ascii: "#") {
                while position < bytes.count, bytes[position] != 0x0A, bytes[position] != 0x0D { position += 1 }
                position += 1
                continue
            }
            position += 1
            if PPMHeader.whitespace.contains(c) {
                if tokenLength > 0 { try finishToken() }
                continue
            }
            if header.format == .bitmap {
                guard c == UInt8(ascii: "0") || c == UInt8(ascii: "1") else {
                    throw ImageDecodingError(.corrupt, "ppm: P1 raster: expected 0 or 1, got byte \(c)", offset: position - 1)
                }
                pixels[filled] = c == UInt8(ascii: "1") ? 0 : 255
                filled += 1
                continue
            }
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) else {
                throw ImageDecodingError(.corrupt, "ppm: plain raster: expected a decimal sample, got byte \(c)", offset: position - 1)
            }
            if tokenLength == 0 { tokenStart = position - 1 }
            tokenLength += 1
            guard tokenLength <= 10 else {
                throw ImageDecodingError(.corrupt, "ppm: plain raster: sample longer than 10 digits", offset: tokenStart)
            }
            token = token * 10 + Int(c - UInt8(ascii: "0"))
        }
        if tokenLength > 0 && filled < samples { try finishToken() }
        guard filled == samples else {
            throw ImageDecodingError(.truncated, "ppm: plain raster: expected \(samples) samples, got \(filled)", offset: position)
        }
        return pixels
    }
}
