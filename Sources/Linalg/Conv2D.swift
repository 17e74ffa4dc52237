import CKernels
import Synchronization

/// A 2-D convolution (ONNX `Conv`) with its weights packed once at construction, run on any
/// batch size and input spatial size.
///
/// Paths: depthwise (groups == C_in == C_out, strideHeight × strideWidth ≤ 16) runs a direct
/// kernel vectorised along the output width; 1×1 stride-1 unpadded convolutions are a GEMM
/// straight on the input; everything else is an implicit-im2col GEMM whose B panels are
/// gathered from the input during packing.
/// The epilogue is `activation(conv + bias + residual)`.
public final class Conv2D: @unchecked Sendable {
    public let geometry: ConvGeometry
    /// The kernel variant the packed weights are laid out for.
    public let isa: KernelISA
    private let bias: [Float]?
    /// GEMM paths: per-group A panels, `groupStride` floats apart. Depthwise: OIHW weights.
    private let weights: UnsafeMutablePointer<Float>
    private let groupStride: Int
    private let reduction: Int
    private let planCache = Mutex<ShiftedPlan?>(nil)

    /// How `run` computes: `depthwise` direct kernel; `pointwise` GEMM on the input; `shifted`
    /// GEMM on shifted views of zero-padded, stride-phase-split copies of the input, without
    /// packing B (kernels with kh·kw ≥ 4·sh·sw, e.g. 3×3 stride 1, 7×7 stride 2); `im2col` GEMM
    /// with B gathered from the input while packing. `shifted` and `im2col` give bit-identical
    /// results (same products in the same order); `shifted` falls back to `im2col` when its
    /// scratch would exceed 64 MiB for a single image.
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
    public init(weights: [Float], bias: [Float]?, geometry: ConvGeometry, isa: KernelISA = .selected) throws {
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
                if path == .depthwise {
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

    /// The plan for this input size, reused across calls (its offset table is the only
    /// per-size allocation of the path).
    private func shiftedPlan(shape: ck_im2col) -> ShiftedPlan? {
        let key = (Int(shape.ih), Int(shape.iw))
        if let cached = planCache.withLock({ $0 }), cached.inputHeight == key.0, cached.inputWidth == key.1 {
            return cached
        }
        let plan = ShiftedPlan(conv: self, shape: shape)
        if let plan { planCache.withLock { $0 = plan } }
        return plan
    }

    /// Sizes of the shifted path for one call, or nil when one image needs too much scratch.
    /// The padded input is split into strideHeight × strideWidth phase planes of
    /// phaseHeight × phaseWidth; the virtual output grid is outHeight × phaseWidth.
    fileprivate struct ShiftedPlan: Sendable {
        let inputHeight: Int, inputWidth: Int
        let channels: Int, phaseHeight: Int, phaseWidth: Int, outHeight: Int, outWidth: Int
        /// Floats of phase planes per channel and per image, of virtual output per image, and of
        /// readable zeros after the last plane.
        let channelFloats: Int, planeFloats: Int, virtualFloats: Int, slack: Int
        let offsets: [Int64]

        init?(conv: Conv2D, shape: ck_im2col) {
            let g = conv.geometry
            inputHeight = Int(shape.ih)
            inputWidth = Int(shape.iw)
            channels = g.inputChannels
            let paddedHeight = inputHeight + g.padTop + g.padBottom
            let paddedWidth = inputWidth + g.padLeft + g.padRight
            phaseHeight = (paddedHeight + g.strideHeight - 1) / g.strideHeight
            phaseWidth = (paddedWidth + g.strideWidth - 1) / g.strideWidth
            outHeight = Int(shape.oh)
            outWidth = Int(shape.ow)
            let phases = g.strideHeight * g.strideWidth
            guard let perChannel = try? Checked.product(phases, phaseHeight, phaseWidth, what: "conv phase planes"),
                  let planes = try? Checked.product(channels, perChannel, what: "conv phase planes"),
                  let virtuals = try? Checked.product(g.outputChannels, outHeight, phaseWidth, what: "conv virtual output"),
                  planes + virtuals <= 1 << 24 else { return nil }
            channelFloats = perChannel
            planeFloats = planes
            virtualFloats = virtuals
            slack = phaseWidth + (g.kernelWidth - 1) * g.dilationWidth + 64
            let phasePlane = phaseHeight * phaseWidth
            var table: [Int64] = []
            table.reserveCapacity(conv.reduction)
            for ic in 0..<(g.inputChannels / g.groups) {
                for kh in 0..<g.kernelHeight {
                    let y = kh * g.dilationHeight
                    for kw in 0..<g.kernelWidth {
                        let x = kw * g.dilationWidth
                        let phase = (y % g.strideHeight) * g.strideWidth + x % g.strideWidth
                        table.append(Int64(ic * perChannel + phase * phasePlane + (y / g.strideHeight) * phaseWidth
                                           + x / g.strideWidth))
                    }
                }
            }
            offsets = table
        }
    }

    private func runShifted(plan: ShiftedPlan, batch: Int, input: UnsafePointer<Float>,
                            output: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, epilogue: Epilogue,
                            inImage: Int, outImage: Int, threads: Int) {
        let g = geometry
        let groups = g.groups
        let m = g.outputChannels / groups
        let virtualColumns = plan.outHeight * plan.phaseWidth
        let imagesPerChunk = max(1, min(batch, (1 << 24) / (plan.planeFloats + plan.virtualFloats)))
        let chunkFloats = imagesPerChunk * (plan.planeFloats + plan.virtualFloats) + plan.slack
        let packed = UnsafePointer(weights)
        let isa = self.isa
        ScratchPool.with(byteCount: chunkFloats * MemoryLayout<Float>.size) { raw in
            let planes = raw.assumingMemoryBound(to: Float.self)
            let virtual = planes + imagesPerChunk * plan.planeFloats + plan.slack
            (planes + imagesPerChunk * plan.planeFloats).initialize(repeating: 0, count: plan.slack)
            plan.offsets.withUnsafeBufferPointer { offsets in
                var first = 0
                while first < batch {
                    let images = min(imagesPerChunk, batch - first)
                    let chunkInput = input + first * inImage
                    let units = images * plan.channels
                    let copyParts = min(units, Parallel.maxParts, Parallel.clamp(threads: threads))
                    Parallel.run(workers: copyParts) { part in
                        let mine = Parallel.share(part, of: copyParts, count: units)
                        ck_f32_phase_planes(chunkInput, Int64(mine.lowerBound), Int64(mine.upperBound),
                                            Int64(plan.inputHeight), Int64(plan.inputWidth), Int64(g.padTop),
                                            Int64(g.padLeft), Int64(g.strideHeight), Int64(g.strideWidth),
                                            Int64(plan.phaseHeight), Int64(plan.phaseWidth), planes)
                    }
                    var template = ck_gemm_call()
                    template.m = Int64(m); template.n = Int64(virtualColumns); template.k = Int64(reduction)
                    template.rsc = virtualColumns; template.csc = 1
                    template.a.kind = CK_OPERAND_PACKED
                    template.b.kind = CK_OPERAND_SHIFTED
                    template.b.offsets = offsets.baseAddress
                    let chunkOutput = output + first * outImage
                    let chunkResidual = epilogue.residual.map { $0 + first * outImage }
                    GEMMScheduler.run(jobs: images * groups, m: m, n: virtualColumns, isa: isa, threads: threads, call: { job in
                        let image = job / groups, group = job % groups
                        var call = template
                        call.a.data = packed + group * groupStride
                        call.b.data = UnsafePointer(planes + (image * plan.channels + group * (plan.channels / groups))
                                                    * plan.channelFloats)
                        call.c = virtual + job * m * virtualColumns
                        return call
                    }, finish: { job, rows, columns in
                        let image = job / groups, group = job % groups
                        let rowOffset = (image * g.outputChannels + group * m + rows.lowerBound) * plan.outHeight * plan.outWidth
                        var e = epilogue.cValue
                        e.residual = chunkResidual.map { UnsafePointer($0 + rowOffset) }
                        if let bias { e.bias_kind = CK_BIAS_PER_ROW; e.bias = bias + group * m + rows.lowerBound }
                        ck_f32_conv_compact(virtual + (job * m + rows.lowerBound) * virtualColumns, virtualColumns,
                                            Int64(rows.count), Int64(plan.outHeight), Int64(plan.outWidth),
                                            Int64(plan.phaseWidth), Int64(columns.lowerBound), Int64(columns.upperBound),
                                            chunkOutput + rowOffset, &e)
                    })
                    first += images
                }
            }
        }
    }

    private func runDepthwise(shape: UnsafePointer<ck_im2col>, batch: Int, input: UnsafePointer<Float>,
                              output: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, epilogue: Epilogue,
                              inImage: Int, outImage: Int, threads: Int) {
        let channels = geometry.inputChannels
        let units = batch * channels
        let threadCount = min(Parallel.clamp(threads: threads), units)
        let workers = threadCount == 1 ? 1 : min(units, Parallel.maxParts, threadCount * Parallel.partsPerWorker)
        let scratchBytes = Int(ck_f32_depthwise_scratch_floats(shape)) * MemoryLayout<Float>.size
        var base = epilogue.cValue
        if let bias { base.bias_kind = CK_BIAS_PER_ROW; base.bias = bias }
        let weights = UnsafePointer(self.weights)
        let isa = self.isa
        Parallel.run(workers: workers) { worker in
            let mine = Parallel.share(worker, of: workers, count: units)
            guard !mine.isEmpty else { return }
            ScratchPool.with(byteCount: scratchBytes) { scratch in
                var unit = mine.lowerBound
                while unit < mine.upperBound {
                    let image = unit / channels, c0 = unit % channels
                    let c1 = min(channels, c0 + (mine.upperBound - unit))
                    var e = base
                    if let residual = epilogue.residual { e.residual = residual + image * outImage }
                    ck_f32_depthwise(isa.cValue, shape, Int64(c0), Int64(c1), input + image * inImage, weights,
                                     output + image * outImage, &e, scratch.assumingMemoryBound(to: Float.self))
                    unit += c1 - c0
                }
            }
        }
    }
}

extension Optional where Wrapped == [Float] {
    /// Calls `body` with the array's base address, or nil when there is no array.
    func withUnsafeBufferPointer<R>(fallback: Void, _ body: (UnsafePointer<Float>?) throws -> R) rethrows -> R {
        switch self {
        case .none: return try body(nil)
        case let .some(array): return try array.withUnsafeBufferPointer { try body($0.baseAddress) }
        }
    }
}
