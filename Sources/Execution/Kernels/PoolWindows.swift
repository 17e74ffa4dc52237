import NetworkIR

/// The windows of a 2-D pooling over one H×W plane, for the forward kernels (PoolingKernels.swift)
/// and the backward rules (Gradients/PoolingBackward.swift), so both read the same cells.
///
/// Window (oy, ox) covers rows `oy·stride − padTop + ky·dilation` and columns
/// `ox·stride − padLeft + kx·dilation`; cells outside the plane are skipped. The output size is
/// the caller's (floor or ceil mode), so windows may run past the bottom and right edges.
public struct PoolWindows: Sendable {
    public let height: Int, width: Int
    public let outputHeight: Int, outputWidth: Int
    public let kernelHeight: Int, kernelWidth: Int
    public let strideHeight: Int, strideWidth: Int
    public let dilationHeight: Int, dilationWidth: Int
    /// [top, left, bottom, right], resolved for this input size.
    public let pads: [Int]

    public init(_ attributes: PoolAttributes, height: Int, width: Int, outputHeight: Int, outputWidth: Int) {
        self.height = height
        self.width = width
        self.outputHeight = outputHeight
        self.outputWidth = outputWidth
        (kernelHeight, kernelWidth) = (attributes.kernel[0], attributes.kernel[1])
        (strideHeight, strideWidth) = (attributes.strides[0], attributes.strides[1])
        (dilationHeight, dilationWidth) = (attributes.dilations[0], attributes.dilations[1])
        pads = attributes.resolvedPads(inputHeight: height, inputWidth: width)
    }

    /// Calls `cell(offset)` with the in-plane offset `iy·width + ix` of every in-bounds cell of
    /// window (oy, ox), in row-major order (the order the tie and NaN rules depend on).
    @inlinable
    public func forEachCell(_ oy: Int, _ ox: Int, _ cell: (Int) -> Void) {
        let y0 = oy * strideHeight - pads[0], x0 = ox * strideWidth - pads[1]
        for ky in 0..<kernelHeight {
            let iy = y0 + ky * dilationHeight
            guard iy >= 0 && iy < height else { continue }
            for kx in 0..<kernelWidth {
                let ix = x0 + kx * dilationWidth
                guard ix >= 0 && ix < width else { continue }
                cell(iy * width + ix)
            }
        }
    }

    /// The cells of window (oy, ox) inside the padded extent: AveragePool's divisor with
    /// `count_include_pad` (a ceil-mode overhang beyond the padding is not counted).
    @inlinable
    public func paddedCount(_ oy: Int, _ ox: Int) -> Int {
        let y0 = oy * strideHeight - pads[0], x0 = ox * strideWidth - pads[1]
        let yEnd = min(y0 + (kernelHeight - 1) * dilationHeight + 1, height + pads[2])
        let xEnd = min(x0 + (kernelWidth - 1) * dilationWidth + 1, width + pads[3])
        return ((yEnd - y0 + dilationHeight - 1) / dilationHeight) * ((xEnd - x0 + dilationWidth - 1) / dilationWidth)
    }
}
