/// Where each output pixel of a preprocessing comes from: the resized size, the cropped (output)
/// size, and the offset between them. Output pixel (y, x) is resized pixel
/// (y + offsetY, x + offsetX) when that lies inside the resized image, and zero padding otherwise
/// (torchvision's CenterCrop pads with 0 when the crop is larger than the image).
public struct PreprocessGeometry: Sendable, Equatable {
    public var resizedWidth: Int
    public var resizedHeight: Int
    public var outputWidth: Int
    public var outputHeight: Int
    public var offsetX: Int
    public var offsetY: Int

    /// Largest output (height × width) accepted: a bound on the memory a strange aspect ratio or
    /// size request can make one image take.
    public static let maxOutputPixels = 1 << 26
}

extension PreprocessSpec {
    /// The geometry for an image of `width` × `height`, following torchvision: `Resize(n)` gives the
    /// shorter side n and the longer `int(n * long / short)`; CenterCrop's offsets are
    /// `int(round((size - crop) / 2.0))` (round half to even, as Python's `round`), after padding
    /// `(crop - size) // 2` before and the rest after on an axis where the crop is larger.
    public func geometry(width: Int, height: Int) throws(PreprocessError) -> PreprocessGeometry {
        guard width > 0, height > 0 else {
            throw PreprocessError("image: expected a non-empty image, got \(width)x\(height)")
        }
        var rw = width, rh = height
        switch resize {
        case nil: break
        case .size(let h, let w): rh = h; rw = w
        case .shorterSide(let n):
            let short = min(width, height), long = max(width, height)
            let (product, overflow) = n.multipliedReportingOverflow(by: long)
            guard !overflow, product < 1 << 53 else {
                throw PreprocessError("resize: the longer side of \(width)x\(height) scaled to \(n) overflows")
            }
            let newLong = Int(Double(product) / Double(short))
            if width <= height { rw = n; rh = newLong } else { rw = newLong; rh = n }
        }
        guard rw > 0, rh > 0, rw <= 1 << 24, rh <= 1 << 24 else {
            throw PreprocessError("resize: expected a size within 1...16777216 per side, got \(rw)x\(rh)")
        }
        let ch = crop?.height ?? rh, cw = crop?.width ?? rw
        let (pixels, overflow) = ch.multipliedReportingOverflow(by: cw)
        guard !overflow, pixels <= PreprocessGeometry.maxOutputPixels else {
            throw PreprocessError("output: expected at most \(PreprocessGeometry.maxOutputPixels) pixels, got \(ch)x\(cw)")
        }
        func offset(size: Int, crop: Int) -> Int {
            if crop > size { return -((crop - size) / 2) }
            return Int((Double(size - crop) / 2.0).rounded(.toNearestOrEven))
        }
        return PreprocessGeometry(resizedWidth: rw, resizedHeight: rh, outputWidth: cw, outputHeight: ch,
                                  offsetX: offset(size: rw, crop: cw), offsetY: offset(size: rh, crop: ch))
    }

    /// Shape of one preprocessed image: `[C, H, W]` for NCHW, `[H, W, C]` for NHWC.
    public func outputShape(_ geometry: PreprocessGeometry, layout: PreprocessLayout) -> [Int] {
        layout == .nchw ? [channels, geometry.outputHeight, geometry.outputWidth]
            : [geometry.outputHeight, geometry.outputWidth, channels]
    }
}
