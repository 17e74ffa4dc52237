/// Pillow's `Image.resize(size, Image.BILINEAR)` for 8-bit L and RGB images, byte for byte:
/// antialiased (the filter widens with the reduction factor), a horizontal pass rounded to 8 bits,
/// then a vertical pass, each in 22-bit fixed point with round-half-up and clipping to 0...255.
/// An axis whose size does not change is not resampled (Pillow skips that pass).
public enum PILResize {
    /// The whole resized image, `width` × `height`, same channel count.
    /// Throws when a size is not positive.
    public static func bilinear(_ image: DecodedImage, width: Int, height: Int) throws(PreprocessError) -> DecodedImage {
        guard width > 0, height > 0 else {
            throw PreprocessError("resize: expected a positive output size, got \(width)x\(height)")
        }
        guard image.width > 0, image.height > 0 else {
            throw PreprocessError("resize: expected a non-empty image, got \(image.width)x\(image.height)")
        }
        let pixels = window(of: image, outWidth: width, outHeight: height, rows: 0..<height, columns: 0..<width)
        return DecodedImage(width: width, height: height, channels: image.channels, pixels: pixels)
    }

    /// The pixels at `rows` × `columns` of the `outWidth` × `outHeight` resize of `image`
    /// (HWC, `rows.count * columns.count * channels` bytes), each equal to Pillow's pixel there.
    /// The ranges must lie within the output; the image must be non-empty.
    static func window(of image: DecodedImage, outWidth: Int, outHeight: Int,
                       rows: Range<Int>, columns: Range<Int>,
                       cache: PILResampleCache = .shared) -> [UInt8] {
        let c = image.channels
        let horizontal = outWidth != image.width
            ? cache.axis(inSize: image.width, outSize: outWidth, window: columns) : nil
        let vertical = outHeight != image.height
            ? cache.axis(inSize: image.height, outSize: outHeight, window: rows) : nil
        let sourceRows = vertical?.inputSpan(slots: 0..<rows.count) ?? rows
        let width = columns.count

        var stage = [UInt8](repeating: 0, count: sourceRows.count * width * c)
        image.pixels.withUnsafeBufferPointer { input in
            stage.withUnsafeMutableBufferPointer { out in
                if let horizontal {
                    resampleRows(input, imageWidth: image.width, channels: c, rows: sourceRows,
                                 axis: horizontal, into: out)
                } else {
                    for (r, y) in sourceRows.enumerated() {
                        let from = (y * image.width + columns.lowerBound) * c
                        for i in 0..<(width * c) { out[r * width * c + i] = input[from + i] }
                    }
                }
            }
        }
        guard let vertical else { return stage }
        var result = [UInt8](repeating: 0, count: rows.count * width * c)
        stage.withUnsafeBufferPointer { input in
            result.withUnsafeMutableBufferPointer { out in
                resampleColumns(input, rowOffset: sourceRows.lowerBound, samplesPerRow: width * c,
                                axis: vertical, into: out)
            }
        }
        return result
    }

    @inline(__always)
    static func clip(_ sum: Int32) -> UInt8 {
        let v = sum >> PILResampleAxis.precisionBits
        return v < 0 ? 0 : v > 255 ? 255 : UInt8(truncatingIfNeeded: v)
    }

    /// Horizontal pass: for each row in `rows` of the input, the window positions of `axis`.
    static func resampleRows(_ input: UnsafeBufferPointer<UInt8>, imageWidth: Int, channels c: Int,
                             rows: Range<Int>, axis: PILResampleAxis, into out: UnsafeMutableBufferPointer<UInt8>) {
        let half: Int32 = 1 << (PILResampleAxis.precisionBits - 1)
        let width = axis.window.count
        let stride = axis.stride
        guard let source = input.baseAddress, let target = out.baseAddress else { return }
        axis.weights.withUnsafeBufferPointer { weightBuffer in
        axis.first.withUnsafeBufferPointer { firstBuffer in
        axis.taps.withUnsafeBufferPointer { tapsBuffer in
            guard let weights = weightBuffer.baseAddress, let first = firstBuffer.baseAddress,
                  let taps = tapsBuffer.baseAddress else { return }
            for (r, y) in rows.enumerated() {
                let row = source + y * imageWidth * c
                var o = target + r * width * c
                for slot in 0..<width {
                    let k = weights + slot * stride
                    var p = row + first[slot] * c
                    let n = taps[slot]
                    if c == 3 {
                        var s0 = half, s1 = half, s2 = half
                        for t in 0..<n {
                            let w = k[t]
                            s0 &+= Int32(p[0]) &* w
                            s1 &+= Int32(p[1]) &* w
                            s2 &+= Int32(p[2]) &* w
                            p += 3
                        }
                        o[0] = clip(s0)
                        o[1] = clip(s1)
                        o[2] = clip(s2)
                        o += 3
                    } else {
                        for ch in 0..<c {
                            var s = half
                            for t in 0..<n { s &+= Int32(p[t * c + ch]) &* k[t] }
                            o[ch] = clip(s)
                        }
                        o += c
                    }
                }
            }
        }
        }
        }
    }

    /// Vertical pass: each window position of `axis` combines whole rows of `input`, whose first
    /// row is input row `rowOffset`.
    static func resampleColumns(_ input: UnsafeBufferPointer<UInt8>, rowOffset: Int, samplesPerRow: Int,
                                axis: PILResampleAxis, into out: UnsafeMutableBufferPointer<UInt8>) {
        let half: Int32 = 1 << (PILResampleAxis.precisionBits - 1)
        let sums = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, samplesPerRow))
        defer { sums.deallocate() }
        guard let source = input.baseAddress, let target = out.baseAddress else { return }
        axis.weights.withUnsafeBufferPointer { weightBuffer in
            guard let weights = weightBuffer.baseAddress else { return }
            for slot in 0..<axis.window.count {
                for i in 0..<samplesPerRow { sums[i] = half }
                let k = weights + slot * axis.stride
                let first = axis.first[slot] - rowOffset
                for t in 0..<axis.taps[slot] {
                    let w = k[t]
                    let row = source + (first + t) * samplesPerRow
                    for i in 0..<samplesPerRow { sums[i] &+= Int32(row[i]) &* w }
                }
                let o = target + slot * samplesPerRow
                for i in 0..<samplesPerRow { o[i] = clip(sums[i]) }
            }
        }
    }
}
