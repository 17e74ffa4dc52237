import CKernels
import Support

/// Convolution as a GEMM on shifted views of zero-padded, stride-phase-split copies of the
/// input: no B packing (see docs/kernels.md).
extension Conv2D {
    /// The plan for this input size, reused across calls (its offset table is the only
    /// per-size allocation of the path).
    func shiftedPlan(shape: ck_im2col) -> ShiftedPlan? {
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
    struct ShiftedPlan: Sendable {
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

    func runShifted(plan: ShiftedPlan, batch: Int, input: UnsafePointer<Float>,
                    output: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, epilogue: Epilogue,
                    inImage: Int, outImage: Int, threads: Int) {
        let g = geometry
        let groups = g.groups
        let m = g.outputChannels / groups
        let virtualColumns = plan.outHeight * plan.phaseWidth
        let threadCount = Parallel.clamp(threads: threads)
        if batch >= 2 * threadCount {
            return runShiftedByImage(plan: plan, batch: batch, input: input, output: output, bias: bias,
                                     epilogue: epilogue, inImage: inImage, outImage: outImage, threads: threadCount)
        }
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

    /// Batches of at least two images per thread (one thread included): each thread takes whole
    /// images (claimed one at a time) and runs the image's phase planes, GEMM and compaction in column strips, so its
    /// planes and virtual output stay in its own cache. Splitting the columns of one image
    /// between threads instead makes the planes and the virtual output of a 64 MiB chunk of
    /// images go through memory three times. Every element is computed by the same kernel with
    /// the same reduction order as on the other paths, so the bits do not change.
    private func runShiftedByImage(plan: ShiftedPlan, batch: Int, input: UnsafePointer<Float>,
                                   output: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?,
                                   epilogue: Epilogue, inImage: Int, outImage: Int, threads: Int) {
        let g = geometry
        let groups = g.groups
        let m = g.outputChannels / groups
        let virtualColumns = plan.outHeight * plan.phaseWidth
        let tileColumns = isa.tile.columns
        let stripColumns = max(1, 1024 / tileColumns) * tileColumns
        let stripFloats = m * stripColumns
        let scratchFloats = plan.planeFloats + plan.slack + stripFloats
        let gemmScratchBytes = Int(ck_f32_gemm_scratch_bytes(isa.cValue))
        let packed = UnsafePointer(weights)
        let isa = self.isa
        let outPlane = plan.outHeight * plan.outWidth
        plan.offsets.withUnsafeBufferPointer { offsets in
            // One part per image (claimed dynamically), at most maxParts parts, each taking every
            // parts-th image; one thread runs a single part (the pool's helpers would join in).
            let parts = threads == 1 ? 1 : min(batch, Parallel.maxParts)
            Parallel.run(workers: parts) { part in
                for image in stride(from: part, to: batch, by: parts) {
                    ScratchPool.with(byteCount: scratchFloats * MemoryLayout<Float>.size) { raw in
                        ScratchPool.with(byteCount: gemmScratchBytes) { gemmScratch in
                            let planes = raw.assumingMemoryBound(to: Float.self)
                            let strip = planes + plan.planeFloats + plan.slack
                            (planes + plan.planeFloats).initialize(repeating: 0, count: plan.slack)
                            ck_f32_phase_planes(input + image * inImage, 0, Int64(plan.channels),
                                                Int64(plan.inputHeight), Int64(plan.inputWidth), Int64(g.padTop),
                                                Int64(g.padLeft), Int64(g.strideHeight), Int64(g.strideWidth),
                                                Int64(plan.phaseHeight), Int64(plan.phaseWidth), planes)
                            for group in 0..<groups {
                                let groupPlanes = planes + group * (plan.channels / groups) * plan.channelFloats
                                let rowOffset = image * outImage + group * m * outPlane
                                var e = epilogue.cValue
                                e.residual = epilogue.residual.map { $0 + rowOffset }
                                if let bias { e.bias_kind = CK_BIAS_PER_ROW; e.bias = bias + group * m }
                                var u0 = 0
                                while u0 < virtualColumns {
                                    let width = min(stripColumns, virtualColumns - u0)
                                    var call = ck_gemm_call()
                                    call.m = Int64(m); call.n = Int64(width); call.k = Int64(reduction)
                                    call.m0 = 0; call.m1 = Int64(m); call.n0 = 0; call.n1 = Int64(width)
                                    call.a.kind = CK_OPERAND_PACKED
                                    call.a.data = packed + group * groupStride
                                    call.b.kind = CK_OPERAND_SHIFTED
                                    call.b.data = UnsafePointer(groupPlanes + u0)
                                    call.b.offsets = offsets.baseAddress
                                    call.c = strip
                                    call.rsc = stripColumns; call.csc = 1
                                    ck_f32_gemm(isa.cValue, &call, gemmScratch)
                                    // The strip holds virtual columns [u0, u0 + width): compaction
                                    // indexes the virtual grid from its column 0.
                                    ck_f32_conv_compact(UnsafePointer(strip) - u0, stripColumns, Int64(m),
                                                        Int64(plan.outHeight), Int64(plan.outWidth),
                                                        Int64(plan.phaseWidth), Int64(u0), Int64(u0 + width),
                                                        output + rowOffset, &e)
                                    u0 += width
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
