import CKernels
import Support

/// A 2-D convolution (ONNX `Conv`) with its weights packed once at construction, run on any
/// batch size and input spatial size.
///
/// The paths (see `Path`): a direct depthwise kernel, a GEMM straight on the input for 1×1
/// stride-1 unpadded convolutions, a GEMM on shifted views of a padded copy of the input
/// (Conv2DShifted.swift), or an implicit-im2col GEMM. The epilogue is
/// `activation(conv + bias + residual)`.
public final class Conv2D: @unchecked Sendable {
    public let geometry: ConvGeometry
    /// The kernel variant the packed weights are laid out for.
    public let isa: KernelISA
    private let bias: [Float]?
    /// GEMM paths: per-group A panels, `groupStride` floats apart. Depthwise: OIHW weights.
    let weights: UnsafeMutablePointer<Float>
    let groupStride: Int
    let reduction: Int
    let planCache = Locked<ShiftedPlan?>(nil)
    /// OIHW weights as given, kept (shared, not copied) for the pixel-rows path's Wᵀ.
    let originalWeights: [Float]
    let transposedCache = Locked<TransposedWeights?>(nil)
    /// When `run` takes the pixel-rows path (Conv2DPixelRows.swift).
    public let pixelRows: PixelRowsChoice
    /// When `run` takes the Winograd path (Conv2DWinograd.swift).
    public let winograd: WinogradChoice
    /// Transformed weights packed for each GEMM orientation, built on first use.
    let winogradCache = Locked<[Bool: WinogradWeights]>([:])

    /// `automatic`: output planes of at most 14×14 pixels where the other paths waste enough
    /// (see `usesPixelRows`); `always`/`never` are for tests and measurements. Depthwise and grouped convolutions never take it.
    public enum PixelRowsChoice: Sendable { case automatic, always, never }

    /// `automatic`: 3×3 stride-1 convolutions with at least 16 channels in and out, when one
    /// image has at least 16 4×4 tiles that waste little enough (see `usesWinograd`) and
    /// `WEAKSPOT_WINOGRAD` is not `off`; `includingSmallPlanes` also from 4 tiles (7×7), for
    /// callers that run many images per call; `always` (still only for eligible geometries) and `never` are for tests and
    /// measurements, as are `tilesAsRows` and `channelsAsRows`, which also force the orientation
    /// of the GEMMs (the bits are the same either way).
    public enum WinogradChoice: Sendable { case automatic, includingSmallPlanes, always, never, tilesAsRows, channelsAsRows }

    /// How `run` computes: `depthwise` direct kernel; `pointwise` GEMM on the input; `shifted`
    /// GEMM on shifted views of zero-padded, stride-phase-split copies of the input, without
    /// packing B (kernels with kh·kw ≥ 4·sh·sw, e.g. 3×3 stride 1, 7×7 stride 2); `im2col` GEMM
    /// with B gathered from the input while packing. `shifted` and `im2col` give bit-identical
    /// results (same products in the same order); `shifted` falls back to `im2col` when its
    /// scratch would exceed 64 MiB for a single image. Independently of the path, eligible 3×3
    /// stride-1 calls may run as Winograd F(4×4, 3×3) (`winograd`, `usesWinograd`).
    public enum Path: Sendable { case depthwise, pointwise, shifted, im2col }
    public var path: Path {
        if geometry.usesDirectDepthwise { return .depthwise }
        if geometry.isPointwise { return .pointwise }
        return geometry.isShiftable ? .shifted : .im2col
    }

    /// - Parameters:
    ///   - weights: OIHW, `geometry.weightCount()` values.
    ///   - bias: one value per output channel, or nil.
    /// - Throws: `LinalgError` for an invalid geometry or wrong weight or bias counts.
    ///   - pixelRows: when to compute output pixels as GEMM rows (see `PixelRowsChoice`).
    ///   - winograd: when to run eligible 3×3 stride-1 calls as Winograd F(4×4, 3×3).
    public init(weights: [Float], bias: [Float]?, geometry: ConvGeometry, isa: KernelISA = .selected,
                pixelRows: PixelRowsChoice = .automatic, winograd: WinogradChoice = .automatic) throws {
        let count = try geometry.weightCount()
        guard weights.count == count else {
            throw LinalgError("conv weights: expected \(count) values (OIHW), got \(weights.count)")
        }
        if let bias, bias.count != geometry.outputChannels {
            throw LinalgError("conv bias: expected \(geometry.outputChannels) values, got \(bias.count)")
        }
        self.geometry = geometry
        self.isa = isa.effective
        self.bias = bias
        self.pixelRows = pixelRows
        self.winograd = winograd
        originalWeights = geometry.usesDirectDepthwise || geometry.groups != 1 ? [] : weights
        let groups = geometry.groups
        let rowsPerGroup = geometry.outputChannels / groups
        reduction = geometry.inputChannels / groups * geometry.kernelHeight * geometry.kernelWidth
        if geometry.usesDirectDepthwise {
            groupStride = 0
            self.weights = .allocate(capacity: max(count, 1))
            weights.withUnsafeBufferPointer { src in
                if let base = src.baseAddress { self.weights.initialize(from: base, count: count) }
            }
        } else {
            let stride = Int(ck_f32_packed_a_count(self.isa.cValue, Int64(rowsPerGroup), Int64(reduction)))
            groupStride = stride
            self.weights = .allocate(capacity: max(try Checked.product(stride, groups, what: "conv packed weights"), 1))
            weights.withUnsafeBufferPointer { src in
                guard let base = src.baseAddress else { return }
                for g in 0..<groups {
                    ck_f32_pack_a(self.isa.cValue, Int64(rowsPerGroup), Int64(reduction),
                                  base + g * rowsPerGroup * reduction, reduction, 1, self.weights + g * stride)
                }
            }
        }
    }

    deinit { weights.deallocate() }

    /// 1 GiB of scratch floats.
    private static let scratchLimitFloats = 1 << 28

    /// Output height and width of `geometry` for an input of `inputHeight × inputWidth`.
    public static func outputSize(geometry: ConvGeometry, inputHeight: Int, inputWidth: Int) throws -> (height: Int, width: Int) {
        try geometry.outputSize(inputHeight: inputHeight, inputWidth: inputWidth)
    }

    /// Convolves `batch` NCHW images.
    ///
    /// - Parameters:
    ///   - input: batch × C_in × inputHeight × inputWidth values.
    ///   - output: batch × C_out × outputHeight × outputWidth values (see `outputSize`); must not
    ///     overlap `input`.
    ///   - residual: nil, or a tensor of the output's shape added before the activation (it may
    ///     be `output` itself).
    ///   - threads: worker threads (clamped to 1...64); results are bit-identical for any count.
    /// - Throws: `LinalgError` when the input size gives no output or sizes overflow.
    public func run(input: UnsafePointer<Float>, batch: Int, inputHeight: Int, inputWidth: Int,
                    output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?,
                    activation: Activation, threads: Int) throws {
        let g = geometry
        let (oh, ow) = try g.outputSize(inputHeight: inputHeight, inputWidth: inputWidth)
        guard batch >= 0 else { throw LinalgError("conv run: expected batch >= 0, got \(batch)") }
        let inImage = try Checked.product(g.inputChannels, inputHeight, inputWidth, what: "conv input")
        let outPlane = try Checked.product(oh, ow, what: "conv output")
        let outImage = try Checked.product(g.outputChannels, outPlane, what: "conv output")
        _ = try Checked.product(batch, max(inImage, outImage), what: "conv batch")
        guard batch > 0 else { return }
        var shape = ck_im2col(cin: Int64(g.inputChannels / g.groups), ih: Int64(inputHeight), iw: Int64(inputWidth),
                              kh: Int64(g.kernelHeight), kw: Int64(g.kernelWidth),
                              sh: Int64(g.strideHeight), sw: Int64(g.strideWidth),
                              pt: Int64(g.padTop), pl: Int64(g.padLeft),
                              dh: Int64(g.dilationHeight), dw: Int64(g.dilationWidth),
                              oh: Int64(oh), ow: Int64(ow))
        if path == .depthwise {
            // The padded planes are at most a few times the input plane; refuse absurd sizes
            // rather than allocate them.
            let floats = withUnsafePointer(to: &shape) { Int(ck_f32_depthwise_scratch_floats($0)) }
            guard floats <= Self.scratchLimitFloats else {
                throw LinalgError("conv run: depthwise scratch of \(floats) floats exceeds \(Self.scratchLimitFloats)")
            }
        }
        let epilogue = Epilogue(bias: .none, residual: residual, activation: activation)
        bias.withUnsafeBufferPointer(fallback: ()) { biasPointer in
            withUnsafePointer(to: &shape) { shapePointer in
                if usesWinograd(outputHeight: oh, outputWidth: ow) {
                    runWinograd(batch: batch, input: input, inputHeight: inputHeight, inputWidth: inputWidth,
                                outputHeight: oh, outputWidth: ow, output: output, bias: biasPointer,
                                epilogue: epilogue, inImage: inImage, outImage: outImage, threads: threads)
                } else if usesPixelRows(inputWidth: inputWidth, outputHeight: oh, outputWidth: ow),
                   path == .pointwise || shiftedPlan(shape: shapePointer.pointee) != nil {
                    runPixelRows(plan: path == .pointwise ? nil : shiftedPlan(shape: shapePointer.pointee), batch: batch,
                                 input: input, output: output, bias: biasPointer, epilogue: epilogue,
                                 inImage: inImage, outImage: outImage, threads: threads)
                } else if path == .depthwise {
                    runDepthwise(shape: shapePointer, batch: batch, input: input, output: output,
                                 bias: biasPointer, epilogue: epilogue, inImage: inImage, outImage: outImage, threads: threads)
                } else if path == .shifted, let plan = shiftedPlan(shape: shapePointer.pointee) {
                    runShifted(plan: plan, batch: batch, input: input, output: output, bias: biasPointer,
                               epilogue: epilogue, inImage: inImage, outImage: outImage, threads: threads)
                } else {
                    runGEMM(shape: shapePointer, batch: batch, input: input, output: output, bias: biasPointer,
                            epilogue: epilogue, inImage: inImage, outImage: outImage, outPlane: outPlane, threads: threads)
                }
            }
        }
    }

    private func runGEMM(shape: UnsafePointer<ck_im2col>, batch: Int, input: UnsafePointer<Float>,
                         output: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, epilogue: Epilogue,
                         inImage: Int, outImage: Int, outPlane: Int, threads: Int) {
        let g = geometry
        let groups = g.groups
        let m = g.outputChannels / groups
        let groupInput = g.inputChannels / groups * Int(shape.pointee.ih * shape.pointee.iw)
        let pointwise = path == .pointwise
        var template = ck_gemm_call()
        template.m = Int64(m); template.n = Int64(outPlane); template.k = Int64(reduction)
        template.rsc = outPlane; template.csc = 1
        template.a.kind = CK_OPERAND_PACKED
        template.b.kind = pointwise ? CK_OPERAND_STRIDED : CK_OPERAND_IM2COL
        template.b.rs = outPlane; template.b.cs = 1
        template.b.conv = shape
        template.epilogue = epilogue.cValue
        if bias != nil { template.epilogue.bias_kind = CK_BIAS_PER_ROW }
        let packed = UnsafePointer(weights)
        GEMMScheduler.run(jobs: batch * groups, m: m, n: outPlane, isa: isa, threads: threads) { job in
            let image = job / groups, group = job % groups
            var call = template
            call.a.data = packed + group * groupStride
            call.b.data = input + image * inImage + group * groupInput
            let outOffset = image * outImage + group * m * outPlane
            call.c = output + outOffset
            if let residual = epilogue.residual { call.epilogue.residual = residual + outOffset }
            if let bias { call.epilogue.bias = bias + group * m }
            return call
        }
    }

}
