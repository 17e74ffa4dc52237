/// The shape of a 2-D convolution (the ONNX `Conv` attributes plus channel counts).
///
/// Input NCHW with `inputChannels`, weights OIHW [outputChannels × inputChannels/groups ×
/// kernelHeight × kernelWidth], output NCHW with `outputChannels`. Pads are zero padding
/// (top, left, bottom, right) and may differ per side.
public struct ConvGeometry: Sendable, Hashable {
    public var inputChannels: Int
    public var outputChannels: Int
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var strideHeight: Int
    public var strideWidth: Int
    public var padTop: Int
    public var padLeft: Int
    public var padBottom: Int
    public var padRight: Int
    public var dilationHeight: Int
    public var dilationWidth: Int
    public var groups: Int

    public init(inputChannels: Int, outputChannels: Int, kernelHeight: Int, kernelWidth: Int,
                strideHeight: Int = 1, strideWidth: Int = 1,
                padTop: Int = 0, padLeft: Int = 0, padBottom: Int = 0, padRight: Int = 0,
                dilationHeight: Int = 1, dilationWidth: Int = 1, groups: Int = 1) {
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight
        self.strideWidth = strideWidth
        self.padTop = padTop
        self.padLeft = padLeft
        self.padBottom = padBottom
        self.padRight = padRight
        self.dilationHeight = dilationHeight
        self.dilationWidth = dilationWidth
        self.groups = groups
    }

    /// Depthwise: one filter per channel (groups == inputChannels == outputChannels).
    public var isDepthwise: Bool { groups == inputChannels && groups == outputChannels }

    /// Depthwise with strides small enough for the direct kernel, which keeps one padded plane
    /// per stride phase (strideHeight × strideWidth of them); larger strides run as a grouped GEMM.
    var usesDirectDepthwise: Bool { isDepthwise && strideHeight * strideWidth <= 16 }

    /// A GEMM on shifted views of the zero-padded, phase-split input pays off when the kernel
    /// covers each input pixel several times: packing im2col panels moves kh·kw / (sh·sw) floats
    /// per input pixel, the shifted path one (plus a pass over the output). Measured: faster for
    /// every 3×3 stride-1 conv of resnet18 and its 7×7 stride-2 stem, slower for 3×3 stride 2.
    var isShiftable: Bool {
        let phases = strideHeight * strideWidth
        return !isPointwise && phases <= 16 && kernelHeight * kernelWidth >= 4 * phases
    }

    /// 1×1, stride 1, no padding: a GEMM straight on the input.
    public var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideHeight == 1 && strideWidth == 1
            && padTop == 0 && padLeft == 0 && padBottom == 0 && padRight == 0
    }

    /// Weight values expected: outputChannels × inputChannels/groups × kernelHeight × kernelWidth.
    /// - Throws: `LinalgError` for an invalid geometry.
    public func weightCount() throws -> Int {
        try validate()
        return try Checked.product(outputChannels, inputChannels / groups, kernelHeight, kernelWidth, what: "conv weights")
    }

    /// - Throws: `LinalgError` when a count, kernel, stride or dilation is below 1, a pad is
    ///   negative, or groups do not divide both channel counts.
    public func validate() throws {
        guard inputChannels >= 1, outputChannels >= 1 else {
            throw LinalgError("conv geometry: expected channels >= 1, got in \(inputChannels) out \(outputChannels)")
        }
        guard kernelHeight >= 1, kernelWidth >= 1 else {
            throw LinalgError("conv geometry: expected kernel >= 1, got \(kernelHeight)x\(kernelWidth)")
        }
        guard strideHeight >= 1, strideWidth >= 1 else {
            throw LinalgError("conv geometry: expected strides >= 1, got \(strideHeight),\(strideWidth)")
        }
        guard dilationHeight >= 1, dilationWidth >= 1 else {
            throw LinalgError("conv geometry: expected dilations >= 1, got \(dilationHeight),\(dilationWidth)")
        }
        guard padTop >= 0, padLeft >= 0, padBottom >= 0, padRight >= 0 else {
            throw LinalgError("conv geometry: expected pads >= 0, got \([padTop, padLeft, padBottom, padRight])")
        }
        guard groups >= 1, inputChannels % groups == 0, outputChannels % groups == 0 else {
            throw LinalgError("conv geometry: expected groups dividing \(inputChannels) and \(outputChannels), got \(groups)")
        }
        let limit = 1 << 24
        for value in [inputChannels, outputChannels, kernelHeight, kernelWidth, strideHeight, strideWidth,
                      padTop, padLeft, padBottom, padRight, dilationHeight, dilationWidth] where value > limit {
            throw LinalgError("conv geometry: expected values <= \(limit), got \(value)")
        }
    }

    /// Output height and width for an input of `inputHeight × inputWidth`:
    /// floor((in + padBefore + padAfter - dilation*(kernel-1) - 1) / stride) + 1.
    /// - Throws: `LinalgError` when the geometry is invalid, the input is not positive, or the
    ///   padded input is smaller than the dilated kernel.
    public func outputSize(inputHeight: Int, inputWidth: Int) throws -> (height: Int, width: Int) {
        try validate()
        let limit = 1 << 24
        guard inputHeight >= 1, inputWidth >= 1, inputHeight <= limit, inputWidth <= limit else {
            throw LinalgError("conv input: expected height and width in 1...\(limit), got \(inputHeight)x\(inputWidth)")
        }
        let spanH = dilationHeight * (kernelHeight - 1) + 1
        let spanW = dilationWidth * (kernelWidth - 1) + 1
        let paddedH = inputHeight + padTop + padBottom, paddedW = inputWidth + padLeft + padRight
        guard paddedH >= spanH, paddedW >= spanW else {
            throw LinalgError("conv input: expected padded size >= kernel extent \(spanH)x\(spanW), got \(paddedH)x\(paddedW)")
        }
        return ((paddedH - spanH) / strideHeight + 1, (paddedW - spanW) / strideWidth + 1)
    }
}
