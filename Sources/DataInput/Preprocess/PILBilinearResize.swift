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
        axis.weights.withUnsafeBufferPointer { weights in
            for (r, y) in rows.enumerated() {
                let rowStart = y * imageWidth * c
                let outRow = r * width * c
                for slot in 0..<width {
                    let k = slot * axis.stride
                    let base = rowStart + axis.first[slot] * c
                    let taps = axis.taps[slot]
                    if c == 3 {
                        var s0 = half, s1 = half, s2 = half
                        for t in 0..<taps {
                            let w = weights[k + t]
                            let p = base + t * 3
                            s0 &+= Int32(input[p]) &* w
                            s1 &+= Int32(input[p + 1]) &* w
                            s2 &+= Int32(input[p + 2]) &* w
                        }
                        out[outRow + slot * 3] = clip(s0)
                        out[outRow + slot * 3 + 1] = clip(s1)
                        out[outRow + slot * 3 + 2] = clip(s2)
                    } else {
                        for ch in 0..<c {
                            var s = half
                            for t in 0..<taps { s &+= Int32(input[base + t * c + ch]) &* weights[k + t] }
                            out[outRow + slot * c + ch] = clip(s)
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
        var sums = [Int32](repeating: 0, count: samplesPerRow)
        axis.weights.withUnsafeBufferPointer { weights in
            sums.withUnsafeMutableBufferPointer { sums in
                for slot in 0..<axis.window.count {
                    for i in 0..<samplesPerRow { sums[i] = half }
                    let k = slot * axis.stride
                    for t in 0..<axis.taps[slot] {
                        let w = weights[k + t]
                        let row = (axis.first[slot] + t - rowOffset) * samplesPerRow
                        for i in 0..<samplesPerRow { sums[i] &+= Int32(input[row + i]) &* w }
                    }
                    let outRow = slot * samplesPerRow
                    for i in 0..<samplesPerRow { out[outRow + i] = clip(sums[i]) }
                }
            }
        }
    }
}
