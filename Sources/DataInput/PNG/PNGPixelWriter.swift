/// Turns reconstructed scanlines into the decoder's output samples, as PIL reads a PNG and then
/// converts it with `convert("L")` (grey, grey+alpha) or `convert("RGB")` (the rest):
///
/// - grey 1/2/4-bit: scaled to 0–255 (× 255, × 85, × 17); 8-bit as is;
/// - grey 16-bit: PIL opens it as mode `I;16`, and `convert("L")` clips, so the sample is
///   `min(value, 255)` — not its high byte;
/// - RGB, RGBA, grey+alpha 16-bit: the high byte of each sample;
/// - palette: the PLTE entry, black for an index past the palette's end (PIL pads it with zeros);
/// - alpha (RGBA, grey+alpha, tRNS) is dropped, not composited.
struct PNGPixelWriter {
    let header: PNGHeader
    /// 256 RGB entries, zero-padded past the file's PLTE.
    let palette: [UInt8]

    /// Writes one scanline of `count` pixels: pixel x goes to `destination + x * step` (step in
    /// bytes, a multiple of the output channels: Adam7 passes write every n-th pixel).
    func write(row: UnsafePointer<UInt8>, count: Int, to destination: UnsafeMutablePointer<UInt8>, step: Int) {
        let depth = header.bitDepth
        switch header.colorType {
        case .grey where depth < 8:
            let scale: UInt8 = depth == 1 ? 255 : depth == 2 ? 85 : 17
            for x in 0..<count { destination[x * step] = PNGPixelWriter.subByteSample(row, x, depth) &* scale }
        case .grey:
            if depth == 8 {
                for x in 0..<count { destination[x * step] = row[x] }
            } else {
                for x in 0..<count { destination[x * step] = row[2 * x] != 0 ? 255 : row[2 * x + 1] }
            }
        case .greyAlpha:
            let bytesPerPixel = depth == 8 ? 2 : 4
            for x in 0..<count { destination[x * step] = row[bytesPerPixel * x] }
        case .rgb where depth == 8 && step == 3:
            destination.update(from: row, count: 3 * count)
        case .rgb, .rgba:
            let bytesPerSample = depth / 8
            let bytesPerPixel = header.colorType.samplesPerPixel * bytesPerSample
            for x in 0..<count {
                let source = row + bytesPerPixel * x
                let target = destination + x * step
                target[0] = source[0]
                target[1] = source[bytesPerSample]
                target[2] = source[2 * bytesPerSample]
            }
        case .palette:
            palette.withUnsafeBufferPointer { colours in
                for x in 0..<count {
                    let index = depth == 8 ? Int(row[x]) : Int(PNGPixelWriter.subByteSample(row, x, depth))
                    let target = destination + x * step
                    target[0] = colours[3 * index]
                    target[1] = colours[3 * index + 1]
                    target[2] = colours[3 * index + 2]
                }
            }
        }
    }

    /// Sample `x` of a scanline packed `depth` (1, 2 or 4) bits per sample, leftmost in the high bits.
    @inline(__always)
    static func subByteSample(_ row: UnsafePointer<UInt8>, _ x: Int, _ depth: Int) -> UInt8 {
        let bit = x * depth
        let shift = 8 - depth - bit & 7
        return row[bit >> 3] >> UInt8(shift) & UInt8((1 << depth) - 1)
    }
}
