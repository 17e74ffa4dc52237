/// libjpeg-turbo's upsampling of one subsampled component to full resolution, one output row at
/// a time ("fancy upsampling", jdsample.c, the default that Pillow keeps):
///
/// - 2:1 horizontal (4:2:2): triangle filter, 3/4 nearer + 1/4 farther sample, rounding biases
///   alternating +1/+2, edge samples copied;
/// - 1:2 vertical (4:4:0): 3/4 nearer row + 1/4 farther row, biases +1 (upper) and +2 (lower);
/// - 2:1 both ways (4:2:0): the separable triangle filter on column sums, biases +8/+7;
/// - other integral ratios, and 2:1 ratios on planes at most 2 samples wide: sample replication.
///
/// The neighbour above the first row is the first row, the one below the last real row is the
/// last real row (libjpeg's context rows); columns end at the component's real width.
struct JPEGUpsampler {
    enum Method { case copy, h2v1Fancy, h1v2Fancy, h2v2Fancy, replicate }

    let method: Method
    let horizontalRatio: Int
    let verticalRatio: Int
    /// Real samples per row and rows of the component (libjpeg's downsampled width and height).
    let sampleWidth: Int
    let sampleHeight: Int

    init(component c: JPEGComponent, frame: JPEGFrame) {
        horizontalRatio = frame.maxHorizontalSampling / c.horizontalSampling
        verticalRatio = frame.maxVerticalSampling / c.verticalSampling
        sampleWidth = c.sampleWidth
        sampleHeight = c.sampleHeight
        switch (horizontalRatio, verticalRatio) {
        case (1, 1): method = .copy
        case (2, 1): method = sampleWidth > 2 ? .h2v1Fancy : .replicate
        case (1, 2): method = .h1v2Fancy
        case (2, 2): method = sampleWidth > 2 ? .h2v2Fancy : .replicate
        default: method = .replicate
        }
    }

    /// Writes full-resolution output row `y` (at least `sampleWidth × horizontalRatio` samples)
    /// from the component plane (`stride` bytes per row).
    @inline(__always)
    func row(_ y: Int, plane: UnsafePointer<UInt8>, stride: Int, into out: UnsafeMutablePointer<UInt8>) {
        let inRow = y / verticalRatio
        let near = plane + inRow * stride
        switch method {
        case .copy:
            out.update(from: near, count: sampleWidth)
        case .h2v1Fancy:
            Self.h2v1(near, width: sampleWidth, out)
        case .h1v2Fancy:
            let upper = y & 1 == 0
            let far = plane + farRow(inRow, upper: upper) * stride
            let bias: Int32 = upper ? 1 : 2
            for x in 0..<sampleWidth {
                out[x] = UInt8(truncatingIfNeeded: (Int32(near[x]) * 3 + Int32(far[x]) + bias) >> 2)
            }
        case .h2v2Fancy:
            let upper = y & 1 == 0
            let far = plane + farRow(inRow, upper: upper) * stride
            Self.h2v2(near, far, width: sampleWidth, out)
        case .replicate:
            var o = 0
            for x in 0..<sampleWidth {
                let value = near[x]
                for _ in 0..<horizontalRatio {
                    out[o] = value
                    o += 1
                }
            }
        }
    }

    @inline(__always)
    private func farRow(_ inRow: Int, upper: Bool) -> Int {
        upper ? max(inRow - 1, 0) : min(inRow + 1, sampleHeight - 1)
    }

    private static func h2v1(_ input: UnsafePointer<UInt8>, width: Int, _ out: UnsafeMutablePointer<UInt8>) {
        var value = Int32(input[0])
        out[0] = input[0]
        out[1] = UInt8(truncatingIfNeeded: (value * 3 + Int32(input[1]) + 2) >> 2)
        var x = 1
        while x < width - 1 {
            value = Int32(input[x]) * 3
            out[2 * x] = UInt8(truncatingIfNeeded: (value + Int32(input[x - 1]) + 1) >> 2)
            out[2 * x + 1] = UInt8(truncatingIfNeeded: (value + Int32(input[x + 1]) + 2) >> 2)
            x += 1
        }
        value = Int32(input[width - 1])
        out[2 * width - 2] = UInt8(truncatingIfNeeded: (value * 3 + Int32(input[width - 2]) + 1) >> 2)
        out[2 * width - 1] = input[width - 1]
    }

    private static func h2v2(_ near: UnsafePointer<UInt8>, _ far: UnsafePointer<UInt8>, width: Int,
                             _ out: UnsafeMutablePointer<UInt8>) {
        var this = Int32(near[0]) * 3 + Int32(far[0])
        var next = Int32(near[1]) * 3 + Int32(far[1])
        out[0] = UInt8(truncatingIfNeeded: (this * 4 + 8) >> 4)
        out[1] = UInt8(truncatingIfNeeded: (this * 3 + next + 7) >> 4)
        var last = this
        this = next
        var x = 1
        while x < width - 1 {
            next = Int32(near[x + 1]) * 3 + Int32(far[x + 1])
            out[2 * x] = UInt8(truncatingIfNeeded: (this * 3 + last + 8) >> 4)
            out[2 * x + 1] = UInt8(truncatingIfNeeded: (this * 3 + next + 7) >> 4)
            last = this
            this = next
            x += 1
        }
        out[2 * x] = UInt8(truncatingIfNeeded: (this * 3 + last + 8) >> 4)
        out[2 * x + 1] = UInt8(truncatingIfNeeded: (this * 4 + 7) >> 4)
    }
}
