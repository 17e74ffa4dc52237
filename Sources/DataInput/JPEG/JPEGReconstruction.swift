/// From coefficients to pixels: islow IDCT of every block into per-component sample planes,
/// then, row by row, upsampling to full resolution and colour conversion (or a grey copy).
enum JPEGReconstruction {
    /// IDCT of every stored block (progressive and multi-scan files) into new planes.
    /// - Parameter quantization: per component, the 64 islow multipliers (natural order) latched for it.
    static func planes(frame: JPEGFrame, coefficients: JPEGCoefficientStore, quantization: [[Int32]]) -> JPEGPlanes {
        let planes = JPEGPlanes(frame: frame)
        let workspace = UnsafeMutablePointer<Int32>.allocate(capacity: 64)
        defer { workspace.deallocate() }
        JPEGInverseDCT.rangeLimit.withUnsafeBufferPointer { limit in
            guard let limit = limit.baseAddress else { return }
            for (ci, c) in frame.components.enumerated() {
                let stride = planes.strides[ci]
                let plane = planes.pointers[ci]
                quantization[ci].withUnsafeBufferPointer { q in
                    guard let q = q.baseAddress else { return }
                    let blocks = coefficients.pointers[ci]
                    for by in 0..<c.heightInBlocks {
                        for bx in 0..<c.widthInBlocks {
                            JPEGInverseDCT.transform(blocks + (by * c.blocksPerLine + bx) * 64, q,
                                                     plane + by * 8 * stride + bx * 8, stride: stride,
                                                     workspace, limit)
                        }
                    }
                }
            }
        }
        return planes
    }

    /// Upsampling and colour conversion of finished planes.
    /// - Returns: HWC pixels, 1 channel for `.grey`, 3 (RGB) otherwise.
    static func pixels(frame: JPEGFrame, planes: JPEGPlanes, colorTransform: JPEGColorTransform) -> DecodedImage {
        let width = frame.width, height = frame.height
        let strides = planes.strides
        let planes = planes.pointers
        let channels = colorTransform == .grey ? 1 : 3
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        let upsamplers = frame.components.map { JPEGUpsampler(component: $0, frame: frame) }
        // One full-resolution row per component, wide enough for any upsampling ratio.
        let rowWidth = frame.components.map { $0.widthInBlocks * 8 * (frame.maxHorizontalSampling / $0.horizontalSampling) }.max() ?? width
        let rows = UnsafeMutablePointer<UInt8>.allocate(capacity: rowWidth * frame.components.count)
        defer { rows.deallocate() }
        pixels.withUnsafeMutableBufferPointer { out in
            guard let out = out.baseAddress else { return }
            if colorTransform == .grey {
                let u = upsamplers[0]
                for y in 0..<height {
                    if u.method == .copy {
                        (out + y * width).update(from: planes[0] + y * strides[0], count: width)
                    } else {
                        u.row(y, plane: planes[0], stride: strides[0], into: rows)
                        (out + y * width).update(from: rows, count: width)
                    }
                }
                return
            }
                var sources: [UnsafePointer<UInt8>] = Array(repeating: UnsafePointer(rows), count: 3)
                for y in 0..<height {
                    for ci in 0..<3 {
                        let u = upsamplers[ci]
                        if u.method == .copy {
                            sources[ci] = UnsafePointer(planes[ci] + y * strides[ci])
                        } else {
                            let row = rows + ci * rowWidth
                            u.row(y, plane: planes[ci], stride: strides[ci], into: row)
                            sources[ci] = UnsafePointer(row)
                        }
                    }
                    let target = out + y * width * 3
                    if colorTransform == .yCbCr {
                        JPEGColorConverter.convertRow(y: sources[0], cb: sources[1], cr: sources[2],
                                                      width: width, out: target)
                    } else {
                        for x in 0..<width {
                            target[3 * x] = sources[0][x]
                            target[3 * x + 1] = sources[1][x]
                            target[3 * x + 2] = sources[2][x]
                        }
                    }
                }
        }
        return DecodedImage(width: width, height: height, channels: channels, pixels: pixels)
    }
}
