import CKernels
import Support

/// Max pooling (ONNX `MaxPool`, 2-D, NCHW) over any number of planes.
///
/// Window (y, x) covers input rows `y·strideHeight − padTop + ky·dilationHeight` and columns
/// `x·strideWidth − padLeft + kx·dilationWidth`; cells outside the input are ignored (an output
/// whose window holds none is −∞). The output size is the caller's (floor or ceil mode, see
/// ONNX), so windows may run past the bottom and right edges. Taps are combined one by one in
/// row-major order as `v >= best ? v : best`: a NaN input is skipped, and the bits equal those of
/// a scalar loop with that rule for any thread count.
public struct MaxPool2D: Sendable {
    public let kernelHeight: Int, kernelWidth: Int
    public let strideHeight: Int, strideWidth: Int
    public let padTop: Int, padLeft: Int
    public let dilationHeight: Int, dilationWidth: Int

    /// - Throws: `LinalgError` when a kernel size, stride or dilation is below 1 or a pad is negative.
    public init(kernelHeight: Int, kernelWidth: Int, strideHeight: Int = 1, strideWidth: Int = 1,
                padTop: Int = 0, padLeft: Int = 0, dilationHeight: Int = 1, dilationWidth: Int = 1) throws {
        guard kernelHeight >= 1, kernelWidth >= 1 else {
            throw LinalgError("max pool: expected kernel sizes >= 1, got \(kernelHeight)x\(kernelWidth)")
        }
        guard strideHeight >= 1, strideWidth >= 1 else {
            throw LinalgError("max pool: expected strides >= 1, got \(strideHeight)x\(strideWidth)")
        }
        guard dilationHeight >= 1, dilationWidth >= 1 else {
            throw LinalgError("max pool: expected dilations >= 1, got \(dilationHeight)x\(dilationWidth)")
        }
        guard padTop >= 0, padLeft >= 0 else { throw LinalgError("max pool: expected pads >= 0, got \(padTop), \(padLeft)") }
        // Window extents and offsets must stay far from Int64 overflow in the C loop.
        let limit = 1 << 30
        guard [kernelHeight, kernelWidth, strideHeight, strideWidth, padTop, padLeft, dilationHeight, dilationWidth].allSatisfy({ $0 < limit }) else {
            throw LinalgError("max pool: expected kernel, stride, pad and dilation below \(limit)")
        }
        self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight; self.strideWidth = strideWidth
        self.padTop = padTop; self.padLeft = padLeft
        self.dilationHeight = dilationHeight; self.dilationWidth = dilationWidth
    }

    /// Pools `planes` consecutive planes (batch × channels for NCHW).
    ///
    /// - Parameters:
    ///   - input: planes × inputHeight × inputWidth values.
    ///   - output: planes × outputHeight × outputWidth values; must not overlap `input`.
    ///   - threads: worker threads (clamped to 1...64); planes are split between them.
    /// - Throws: `LinalgError` for negative counts, sizes below 1 or size products that overflow.
    public func run(input: UnsafePointer<Float>, planes: Int, inputHeight: Int, inputWidth: Int,
                    output: UnsafeMutablePointer<Float>, outputHeight: Int, outputWidth: Int, threads: Int) throws {
        guard planes >= 0 else { throw LinalgError("max pool: expected planes >= 0, got \(planes)") }
        guard inputHeight >= 1, inputWidth >= 1, outputHeight >= 1, outputWidth >= 1 else {
            throw LinalgError("max pool: expected sizes >= 1, got input \(inputHeight)x\(inputWidth), output \(outputHeight)x\(outputWidth)")
        }
        let inPlane = try Checked.product(inputHeight, inputWidth, what: "max pool input")
        let outPlane = try Checked.product(outputHeight, outputWidth, what: "max pool output")
        _ = try Checked.product(planes, max(inPlane, outPlane), what: "max pool planes")
        // The largest window coordinates (output index times stride plus the kernel's extent).
        _ = try Checked.product(outputHeight, strideHeight + (kernelHeight - 1) * dilationHeight + 1, what: "max pool rows")
        _ = try Checked.product(outputWidth, strideWidth + (kernelWidth - 1) * dilationWidth + 1, what: "max pool columns")
        guard planes > 0 else { return }
        var shape = ck_pool(ih: Int64(inputHeight), iw: Int64(inputWidth), kh: Int64(kernelHeight), kw: Int64(kernelWidth),
                            sh: Int64(strideHeight), sw: Int64(strideWidth), pt: Int64(padTop), pl: Int64(padLeft),
                            dh: Int64(dilationHeight), dw: Int64(dilationWidth), oh: Int64(outputHeight), ow: Int64(outputWidth))
        let threadCount = min(Parallel.clamp(threads: threads), planes)
        let parts = threadCount == 1 ? 1 : min(planes, Parallel.maxParts, threadCount * Parallel.partsPerWorker)
        withUnsafePointer(to: &shape) { geometry in
            Parallel.run(workers: parts) { part in
                let mine = Parallel.share(part, of: parts, count: planes)
                guard !mine.isEmpty else { return }
                ck_f32_max_pool(geometry, Int64(mine.lowerBound), Int64(mine.upperBound), input, output)
            }
        }
    }
}
