import CKernels
import Support
import Synchronization

/// Convolution as a GEMM with output pixels as rows and output channels as columns:
/// `out[pixels × C_out] = view[pixels × K] · Wᵀ[K × C_out]`, the view being the transposed
/// shifted view of the phase planes (or the input itself for a pointwise convolution).
///
/// Why: with channels as rows (the other paths), a small output plane is the GEMM's column
/// count and is padded to whole column tiles — 7×7 outputs compute 64 columns for 49 (63 on the
/// shifted grid), 14×14 compute 224 for 196 — whereas pixel rows need no padding (row-remainder
/// tiles compute only their rows). And several images stack into one GEMM, so at batch 16 each
/// thread streams the weights (9.4 MB for a 512→512 3×3 conv) once for all its images instead
/// of once per image. Each output element is still one FMA chain over k in order, followed by
/// the same epilogue, so results are bit-identical to the other GEMM paths.
extension Conv2D {
    /// Wᵀ packed as a B operand, made on first use (only convolutions that meet small planes
    /// need it).
    final class TransposedWeights: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<Float>

        init(conv: Conv2D, source: [Float]) {
            let k = conv.reduction, n = conv.geometry.outputChannels
            let count = Int(ck_f32_packed_b_count(conv.isa.cValue, Int64(k), Int64(n)))
            pointer = .allocate(capacity: max(count, 1))
            source.withUnsafeBufferPointer { w in
                // B(k, j) = W[j][k]: row stride 1, column stride K.
                ck_f32_pack_b(conv.isa.cValue, Int64(k), Int64(n), w.baseAddress, 1, k, pointer)
            }
        }

        deinit { pointer.deallocate() }
    }

    /// Whether `run` takes the pixel-rows path for this output size: never for depthwise or
    /// grouped convolutions, many stride phases or kernels smaller than the stride.
    /// Automatically when the output plane has at most `pixelRowsMaxPlane` pixels
    /// (`pixelRowsMaxPointwisePlane` for pointwise convolutions) and the
    /// columns the channel-rows path would compute in vain (padding to whole tiles, and the
    /// shifted grid's extra columns), times the depth K, reach `pixelRowsMinWastedDepth`: the
    /// pixel-rows path pays a transposing pass over the output instead, which costs about as
    /// much as 32 wasted multiply-adds per output (measured on mobilenet_v2's 14×14 pointwise
    /// convolutions: K = 96 lost 13%, K = 576 gained 6%).
    func usesPixelRows(inputWidth: Int, outputHeight: Int, outputWidth: Int) -> Bool {
        let g = geometry
        // A kernel smaller than the stride (1×1 stride 2) would copy phase planes it never reads.
        guard !g.usesDirectDepthwise, g.groups == 1, g.strideHeight * g.strideWidth <= 16,
              g.kernelHeight * g.kernelWidth >= g.strideHeight * g.strideWidth else { return false }
        switch pixelRows {
        case .never: return false
        case .always: return true
        case .automatic:
            let pixels = outputHeight * outputWidth
            guard pixels <= (path == .pointwise ? Self.pixelRowsMaxPointwisePlane : Self.pixelRowsMaxPlane) else { return false }
            let nr = isa.tile.columns
            let gridWidth = path == .shifted
                ? (inputWidth + g.padLeft + g.padRight + g.strideWidth - 1) / g.strideWidth : outputWidth
            let columns = (outputHeight * gridWidth + nr - 1) / nr * nr
            return (columns - pixels) * reduction >= Self.pixelRowsMinWastedDepth * columns
        }
    }

    /// 14×14: resnet18's layer3 and layer4, mobilenet_v2's last stages.
    static let pixelRowsMaxPlane = 196
    /// 7×7 for pointwise convolutions: at 14×14 (12.5% wasted columns) mobilenet_v2's 576→96
    /// projection gained 4% at batch 1 on one thread (0.232 → 0.222 ms) but lost 8% at batch 16
    /// on two (2.15 → 2.33 ms), where its small weights give the stacked GEMM nothing to save;
    /// at 7×7 (23% wasted) 320→1280 took 3.7 instead of 4.25 ms at batch 16.
    static let pixelRowsMaxPointwisePlane = 49
    static let pixelRowsMinWastedDepth = 32

    func transposedWeights() -> TransposedWeights {
        transposedCache.withLock { cache in
            if let cache { return cache }
            let made = TransposedWeights(conv: self, source: originalWeights)
            cache = made
            return made
        }
    }

    func runPixelRows(plan: ShiftedPlan?, batch: Int, input: UnsafePointer<Float>,
                      output: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, epilogue: Epilogue,
                      inImage: Int, outImage: Int, threads: Int) {
        let g = geometry
        let cout = g.outputChannels
        let outPlane = outImage / max(cout, 1)
        let tile = isa.tile
        let paddedColumns = (cout + tile.columns - 1) / tile.columns * tile.columns
        let planeFloats = plan?.planeFloats ?? 0
        let perImage = planeFloats + outPlane * paddedColumns
        let imagesPerChunk = max(1, min(batch, (1 << 24) / max(perImage, 1)))
        let weightsT = UnsafePointer(transposedWeights().pointer)
        let isa = self.isa
        let workers = Parallel.clamp(threads: threads)
        let scratchBytes = Int(ck_f32_gemm_scratch_bytes(isa.cValue))
        let pointwiseOffsets: [Int64]? = plan == nil
            ? (0..<reduction).map { Int64($0 * outPlane) } : nil
        let chunkFloats = imagesPerChunk * perImage
        ScratchPool.with(byteCount: max(chunkFloats, 1) * MemoryLayout<Float>.size) { raw in
            let planes = raw.assumingMemoryBound(to: Float.self)
            let ct = planes + imagesPerChunk * planeFloats
            (plan?.offsets ?? pointwiseOffsets ?? []).withUnsafeBufferPointer { offsets in
                var first = 0
                while first < batch {
                    let images = min(imagesPerChunk, batch - first)
                    let chunkInput = input + first * inImage
                    var template = ck_gemm_call()
                    template.m = Int64(images * outPlane); template.n = Int64(cout); template.k = Int64(reduction)
                    template.rsc = paddedColumns; template.csc = 1
                    template.c = ct
                    template.a.kind = CK_OPERAND_PIXEL_ROWS
                    template.a.offsets = offsets.baseAddress
                    template.a.plane = Int64(outPlane)
                    template.b.kind = CK_OPERAND_PACKED
                    template.b.data = weightsT
                    if let plan {
                        let units = images * plan.channels
                        let copyParts = min(units, Parallel.maxParts, workers)
                        Parallel.run(workers: copyParts) { part in
                            let mine = Parallel.share(part, of: copyParts, count: units)
                            ck_f32_phase_planes(chunkInput, Int64(mine.lowerBound), Int64(mine.upperBound),
                                                Int64(plan.inputHeight), Int64(plan.inputWidth), Int64(g.padTop),
                                                Int64(g.padLeft), Int64(g.strideHeight), Int64(g.strideWidth),
                                                Int64(plan.phaseHeight), Int64(plan.phaseWidth), planes)
                        }
                        template.a.data = UnsafePointer(planes)
                        template.a.width = Int64(plan.outWidth)
                        template.a.pitch = Int64(plan.phaseWidth)
                        template.a.image_stride = Int64(planeFloats)
                    } else {
                        template.a.data = chunkInput
                        template.a.width = Int64(outPlane)
                        template.a.pitch = Int64(outPlane)
                        template.a.image_stride = Int64(inImage)
                    }
                    let chunkOutput = output + first * outImage
                    let chunkResidual = epilogue.residual.map { $0 + first * outImage }
                    let rowTiles = (images * outPlane + tile.rows - 1) / tile.rows
                    let columnTiles = paddedColumns / tile.columns
                    // Rows (pixels) when every thread gets several row tiles: each thread then
                    // packs only its own pixels and streams the weights once. Otherwise columns
                    // (channels), every part packing all of the (small) pixel matrix.
                    let byRows = workers == 1 || rowTiles >= 4 * workers
                    let parts = byRows ? min(workers, rowTiles) : min(workers, columnTiles)
                    let tilesTotal = byRows ? rowTiles : columnTiles
                    Parallel.run(workers: parts) { part in
                        let mine = Parallel.share(part, of: parts, count: tilesTotal)
                        guard !mine.isEmpty else { return }
                        var call = template
                        if byRows {
                            call.m0 = Int64(mine.lowerBound * tile.rows)
                            call.m1 = Int64(min(images * outPlane, mine.upperBound * tile.rows))
                            call.n0 = 0; call.n1 = Int64(cout)
                        } else {
                            call.m0 = 0; call.m1 = Int64(images * outPlane)
                            call.n0 = Int64(mine.lowerBound * tile.columns)
                            call.n1 = Int64(min(cout, mine.upperBound * tile.columns))
                        }
                        ScratchPool.with(byteCount: scratchBytes) { scratch in
                            ck_f32_gemm(isa.cValue, &call, scratch)
                        }
                        let c0 = Int(call.n0), channels = Int(call.n1 - call.n0)
                        var e = epilogue.cValue
                        e.residual = chunkResidual.map { UnsafePointer($0 + c0 * outPlane) }
                        if let bias { e.bias_kind = CK_BIAS_PER_ROW; e.bias = bias + c0 }
                        ck_f32_conv_compact_pixel_rows(ct + c0, paddedColumns, Int64(channels), Int64(outPlane),
                                                       Int64(outImage), call.m0, call.m1,
                                                       chunkOutput + c0 * outPlane, &e)
                    }
                    first += images
                }
            }
        }
    }
}
