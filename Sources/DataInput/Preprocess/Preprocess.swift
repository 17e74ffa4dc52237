/// Preprocesses one decoded image as torchvision does on the PIL image (see `PreprocessSpec`):
/// `channels × H × W` values (NCHW) or `H × W × channels` (NHWC), H and W from
/// `spec.geometry(width:height:)`. Equal to torchvision's tensor up to float rounding of the last
/// step (in practice bit-identical): the resize is byte-identical to Pillow's.
/// Throws when the spec is invalid, the image has 0 pixels or an unsupported channel count, or the
/// output would exceed `PreprocessGeometry.maxOutputPixels`.
public func preprocess(_ image: DecodedImage, spec: PreprocessSpec, layout: PreprocessLayout) throws(PreprocessError) -> [Float] {
    try spec.validate()
    let geometry = try spec.geometry(width: image.width, height: image.height)
    var out = [Float](repeating: 0, count: spec.channels * geometry.outputWidth * geometry.outputHeight)
    try out.withUnsafeMutableBufferPointer { buffer throws(PreprocessError) in
        try PreprocessKernel.run(image, spec: spec, geometry: geometry, layout: layout, into: buffer)
    }
    return out
}

/// The fused preprocessing: channel conversion, resize of only the pixels the crop keeps,
/// padding, then ToTensor and Normalize through a 256-entry table per channel.
enum PreprocessKernel {
    /// Writes one image into `out`, which holds exactly `spec.channels * outputHeight * outputWidth`
    /// floats. `spec` must be valid and `geometry` computed from it for this image's size.
    static func run(_ image: DecodedImage, spec: PreprocessSpec, geometry g: PreprocessGeometry,
                    layout: PreprocessLayout, into out: UnsafeMutableBufferPointer<Float>) throws(PreprocessError) {
        guard image.channels == 1 || image.channels == 3 else {
            throw PreprocessError("image: expected 1 or 3 channels, got \(image.channels)")
        }
        let source = spec.channels == 1 && image.channels == 3 ? PILGreyConversion.luminance(image) : image
        let rows = max(0, -g.offsetY)..<min(g.outputHeight, g.resizedHeight - g.offsetY)
        let columns = max(0, -g.offsetX)..<min(g.outputWidth, g.resizedWidth - g.offsetX)
        let window = rows.isEmpty || columns.isEmpty ? [] : PILResize.window(
            of: source, outWidth: g.resizedWidth, outHeight: g.resizedHeight,
            rows: (rows.lowerBound + g.offsetY)..<(rows.upperBound + g.offsetY),
            columns: (columns.lowerBound + g.offsetX)..<(columns.upperBound + g.offsetX))

        let channels = spec.channels
        var tables = [Float](repeating: 0, count: channels * 256)
        for c in 0..<channels {
            let mean = spec.mean.count == 1 ? spec.mean[0] : spec.mean[c]
            let std = spec.std.count == 1 ? spec.std[0] : spec.std[c]
            for p in 0..<256 { tables[c * 256 + p] = (Float(p) / 255 - mean) / std }
        }
        let width = g.outputWidth, height = g.outputHeight
        let sourceChannels = source.channels
        // Padding first (zero pixels), then the resized window over it.
        let padded = rows.count != height || columns.count != width
        for c in 0..<channels where padded {
            let padding = tables[c * 256]
            for y in 0..<height {
                for x in 0..<width where !(rows.contains(y) && columns.contains(x)) {
                    out[layout == .nchw ? (c * height + y) * width + x : (y * width + x) * channels + c] = padding
                }
            }
        }
        guard !window.isEmpty else { return }
        let windowWidth = columns.count
        tables.withUnsafeBufferPointer { table in
            window.withUnsafeBufferPointer { pixels in
                for y in rows {
                    let pixelRow = (y - rows.lowerBound) * windowWidth * sourceChannels
                    for c in 0..<channels {
                        let t = table.baseAddress! + c * 256
                        let sourceChannel = sourceChannels == 1 ? 0 : c
                        var p = pixelRow + sourceChannel
                        if layout == .nchw {
                            var o = (c * height + y) * width + columns.lowerBound
                            for _ in 0..<windowWidth {
                                out[o] = t[Int(pixels[p])]
                                o += 1
                                p += sourceChannels
                            }
                        } else {
                            var o = (y * width + columns.lowerBound) * channels + c
                            for _ in 0..<windowWidth {
                                out[o] = t[Int(pixels[p])]
                                o += channels
                                p += sourceChannels
                            }
                        }
                    }
                }
            }
        }
    }
}

/// PIL's `convert("L")` of an RGB image: `L = (R * 19595 + G * 38470 + B * 7471 + 0x8000) >> 16`
/// (ITU-R 601-2 luma in 16-bit fixed point).
enum PILGreyConversion {
    static func luminance(_ image: DecodedImage) -> DecodedImage {
        let count = image.width * image.height
        var grey = [UInt8](repeating: 0, count: count)
        image.pixels.withUnsafeBufferPointer { p in
            for i in 0..<count {
                let l = UInt32(p[3 * i]) * 19595 + UInt32(p[3 * i + 1]) * 38470 + UInt32(p[3 * i + 2]) * 7471 + 0x8000
                grey[i] = UInt8(truncatingIfNeeded: l >> 16)
            }
        }
        return DecodedImage(width: image.width, height: image.height, channels: 1, pixels: grey)
    }
}
