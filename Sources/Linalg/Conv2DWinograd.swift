import CKernels
import Foundation
import Support

/// The transformed weights of the Winograd path: U[ξ] = G·g·Gᵀ for each of the 36 positions ξ
/// of a 6×6 tile, each packed once for its GEMM: as the A operand (output × input channels) when
/// the GEMMs put channels on their rows, as the B operand (Uᵀ, input × output channels) when
/// they put tiles on their rows. Built on the first call that needs it, so models that never
/// take the path pay nothing; 4× the memory of the direct weights (36 against 9 values per
/// channel pair).
final class WinogradWeights: @unchecked Sendable {
    let packed: UnsafeMutablePointer<Float>
    /// Floats between the packed panels of consecutive positions ξ.
    let stride: Int

    /// `weights` OIHW with 3×3 kernels; transformed in Double, then rounded once.
    init(weights: [Float], outputs: Int, inputs: Int, isa: KernelISA, tilesAsRows: Bool) {
        let g = Self.g
        let pairs = outputs * inputs
        var transformed = [Float](repeating: 0, count: 36 * pairs)
        var t = [Double](repeating: 0, count: 18)
        for pair in 0..<pairs {
            let w = pair * 9
            // t = G·g (6×3), then U = t·Gᵀ (6×6).
            for i in 0..<6 {
                for b in 0..<3 {
                    var sum = 0.0
                    for a in 0..<3 { sum += g[i][a] * Double(weights[w + a * 3 + b]) }
                    t[i * 3 + b] = sum
                }
            }
            for i in 0..<6 {
                for j in 0..<6 {
                    var sum = 0.0
                    for b in 0..<3 { sum += t[i * 3 + b] * g[j][b] }
                    transformed[(i * 6 + j) * pairs + pair] = Float(sum)
                }
            }
        }
        stride = tilesAsRows ? Int(ck_f32_packed_b_count(isa.cValue, Int64(inputs), Int64(outputs)))
            : Int(ck_f32_packed_a_count(isa.cValue, Int64(outputs), Int64(inputs)))
        packed = .allocate(capacity: max(36 * stride, 1))
        transformed.withUnsafeBufferPointer { source in
            guard let base = source.baseAddress else { return }
            for xi in 0..<36 {
                // U[ξ] is outputs × inputs, row-major; as B it is read transposed.
                if tilesAsRows {
                    ck_f32_pack_b(isa.cValue, Int64(inputs), Int64(outputs), base + xi * pairs, 1, inputs,
                                  packed + xi * stride)
                } else {
                    ck_f32_pack_a(isa.cValue, Int64(outputs), Int64(inputs), base + xi * pairs, inputs, 1,
                                  packed + xi * stride)
                }
            }
        }
    }

    deinit { packed.deallocate() }

    /// G of F(4, 3): the filter transform for interpolation points 0, ±1, ±2 and ∞.
    private static let g: [[Double]] = [[1.0 / 4, 0, 0], [-1.0 / 6, -1.0 / 6, -1.0 / 6], [-1.0 / 6, 1.0 / 6, -1.0 / 6],
                                        [1.0 / 24, 1.0 / 12, 1.0 / 6], [1.0 / 24, -1.0 / 12, 1.0 / 6], [0, 0, 1]]
}

extension Conv2D {
    /// 3×3, stride 1, dilation 1, ungrouped, with enough channels on both sides that the
    /// transforms (per tile and input channel, per tile and output channel) are small next to
    /// the GEMMs (per tile and channel pair).
    public var winogradEligible: Bool {
        let g = geometry
        return g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideHeight == 1 && g.strideWidth == 1
            && g.dilationHeight == 1 && g.dilationWidth == 1 && g.groups == 1
            && g.inputChannels >= Self.winogradMinChannels && g.outputChannels >= Self.winogradMinChannels
    }

    /// Below 16 channels the transforms cost about as much as the multiplies they save.
    static let winogradMinChannels = 16

    /// `WEAKSPOT_WINOGRAD=off` keeps every convolution on the direct paths (their results differ
    /// from Winograd's in the last bits: see docs/kernels.md).
    static let winogradDisabled: Bool = {
        let value = ProcessInfo.processInfo.environment["WEAKSPOT_WINOGRAD"]?.lowercased()
        return value == "off" || value == "0" || value == "no"
    }()

    /// Tile rows per chunk: the chunk's V and M matrices (36 × (C_in + C_out) floats per tile)
    /// stay within about 4 MiB (2²⁰ floats).
    func winogradRowsPerChunk(tileColumns: Int, totalRows: Int) -> Int {
        let perRow = 36 * (geometry.inputChannels + geometry.outputChannels) * tileColumns
        return min(totalRows, max(1, (1 << 20) / perRow))
    }

    /// The 4×4 tiles covering one output plane: rows and columns of them.
    static func winogradTiles(outputHeight: Int, outputWidth: Int) -> (rows: Int, columns: Int) {
        ((outputHeight + 3) / 4, (outputWidth + 3) / 4)
    }

    /// Whether `run` takes the Winograd path for an output plane of this size. The rule looks at
    /// one image only, so an image's result never depends on which images share its batch: the
    /// profiler's adaptive slices, shards and image-parallel forward passes rely on that. The
    /// GEMMs' work (36 per tile) must be at most half the direct path's (9 per pixel), with at
    /// least 16 tiles (56×56 to 14×14 planes), or 4 with `includingSmallPlanes` (7×7 too): at 7×7
    /// one image streams 4× the direct path's weights for a quarter of its multiplies, which
    /// pays only when many images share the call (at batch 1 on one thread, 512→512 at 7×7
    /// took 3.6–4.2 ms against 4.4–5.0 direct).
    public func usesWinograd(outputHeight: Int, outputWidth: Int) -> Bool {
        guard winogradEligible else { return false }
        switch winograd {
        case .never: return false
        case .always, .tilesAsRows, .channelsAsRows: return true
        case .automatic, .includingSmallPlanes:
            guard !Self.winogradDisabled else { return false }
            let grid = Self.winogradTiles(outputHeight: outputHeight, outputWidth: outputWidth)
            let tiles = grid.rows * grid.columns
            return tiles >= (winograd == .automatic ? 16 : 4) && 2 * 36 * tiles <= 9 * outputHeight * outputWidth
        }
    }

    /// The GEMMs put tiles on their rows when one image has fewer tiles than a micro-kernel has
    /// columns (7×7: 4 tiles against 16), so a single image fills 4 of 6 rows instead of 4 of 16
    /// columns; at batch 16 the tiles of all images stack. Each element is the same FMA chain over
    /// input channels in either orientation, so the choice never changes a bit.
    func winogradTilesAsRows(tilesPerImage: Int) -> Bool {
        switch winograd {
        case .tilesAsRows: return true
        case .channelsAsRows: return false
        default: return tilesPerImage < isa.tile.columns
        }
    }

    func winogradWeights(tilesAsRows: Bool) -> WinogradWeights {
        winogradCache.withLock { cache in
            if let cached = cache[tilesAsRows] { return cached }
            let built = WinogradWeights(weights: originalWeights, outputs: geometry.outputChannels,
                                        inputs: geometry.inputChannels, isa: isa, tilesAsRows: tilesAsRows)
            cache[tilesAsRows] = built
            return built
        }
    }

    /// Runs the batch chunk by chunk (whole tile rows, the same chunks for any thread count, so
    /// the bits do not depend on it): input transform, 36 GEMMs, output transform with the
    /// epilogue. With at least two chunks per thread each thread takes whole chunks; otherwise
    /// the threads share each phase of every chunk.
    func runWinograd(batch: Int, input: UnsafePointer<Float>, inputHeight: Int, inputWidth: Int,
                     outputHeight: Int, outputWidth: Int, output: UnsafeMutablePointer<Float>,
                     bias: UnsafePointer<Float>?, epilogue: Epilogue, inImage: Int, outImage: Int, threads: Int) {
        let g = geometry
        let cin = g.inputChannels, cout = g.outputChannels
        let (tileRows, tileColumns) = Self.winogradTiles(outputHeight: outputHeight, outputWidth: outputWidth)
        let totalRows = batch * tileRows
        let rowsPerChunk = winogradRowsPerChunk(tileColumns: tileColumns, totalRows: totalRows)
        let chunks = (totalRows + rowsPerChunk - 1) / rowsPerChunk
        let pitch = (rowsPerChunk * tileColumns + 7) / 8 * 8 + 8
        var inShape = ck_winograd(c: Int64(cin), ih: Int64(inputHeight), iw: Int64(inputWidth),
                                  oh: Int64(outputHeight), ow: Int64(outputWidth), pt: Int64(g.padTop),
                                  pl: Int64(g.padLeft), th: Int64(tileRows), tw: Int64(tileColumns))
        var outShape = inShape
        outShape.c = Int64(cout)
        let transformScratch = Int(ck_f32_winograd_input_scratch_floats(&inShape)) * MemoryLayout<Float>.size
        let chunkBytes = 36 * (cin + cout) * pitch * MemoryLayout<Float>.size
        var e = epilogue.cValue
        if let bias { e.bias_kind = CK_BIAS_PER_ROW; e.bias = bias }
        let tilesAsRows = winogradTilesAsRows(tilesPerImage: tileRows * tileColumns)
        let weights = winogradWeights(tilesAsRows: tilesAsRows)
        let isa = self.isa
        let threadCount = Parallel.clamp(threads: threads)
        let inputShape = inShape, outputShape = outShape, finalEpilogue = e

        /// One chunk, its phases split `parts` ways (1: run by the calling thread alone).
        func chunk(_ index: Int, parts: Int, scratch: UnsafeMutableRawPointer) {
            let v = scratch.assumingMemoryBound(to: Float.self)
            let m = v + 36 * cin * pitch
            let r0 = index * rowsPerChunk, r1 = min(totalRows, r0 + rowsPerChunk)
            let tiles = (r1 - r0) * tileColumns
            let inParts = min(parts, cin)
            Parallel.run(workers: inParts) { part in
                let mine = Parallel.share(part, of: inParts, count: cin)
                ScratchPool.with(byteCount: transformScratch) { rows in
                    withUnsafePointer(to: inputShape) { shape in
                        ck_f32_winograd_input(isa.cValue, shape, input, Int64(inImage), Int64(mine.lowerBound),
                                              Int64(mine.upperBound), Int64(r0), Int64(r1), Int64(r0), v, Int64(pitch),
                                              rows.assumingMemoryBound(to: Float.self))
                    }
                }
            }
            // Channels as rows: M[ξ] (cout × tiles) = U[ξ] · V[ξ]. Tiles as rows: M[ξ]ᵀ (tiles × cout)
            // = V[ξ]ᵀ · U[ξ]ᵀ, written transposed into the same layout.
            var template = ck_gemm_call()
            template.k = Int64(cin)
            template.m = Int64(tilesAsRows ? tiles : cout); template.n = Int64(tilesAsRows ? cout : tiles)
            let packedOperand = tilesAsRows ? \ck_gemm_call.b : \ck_gemm_call.a
            let tileOperand = tilesAsRows ? \ck_gemm_call.a : \ck_gemm_call.b
            template[keyPath: packedOperand].kind = CK_OPERAND_PACKED
            template[keyPath: tileOperand].kind = CK_OPERAND_STRIDED
            template[keyPath: tileOperand].rs = tilesAsRows ? 1 : pitch
            template[keyPath: tileOperand].cs = tilesAsRows ? pitch : 1
            template.rsc = tilesAsRows ? 1 : pitch
            template.csc = tilesAsRows ? pitch : 1
            let packed = UnsafePointer(weights.packed)
            GEMMScheduler.run(jobs: 36, m: Int(template.m), n: Int(template.n), isa: isa, threads: parts) { xi in
                var call = template
                call[keyPath: packedOperand].data = packed + xi * weights.stride
                call[keyPath: tileOperand].data = UnsafePointer(v + xi * cin * pitch)
                call.c = m + xi * cout * pitch
                return call
            }
            let outParts = min(parts, cout)
            Parallel.run(workers: outParts) { part in
                let mine = Parallel.share(part, of: outParts, count: cout)
                withUnsafePointer(to: outputShape) { shape in
                    withUnsafePointer(to: finalEpilogue) { epi in
                        ck_f32_winograd_output(isa.cValue, shape, m, Int64(pitch), Int64(mine.lowerBound),
                                               Int64(mine.upperBound), Int64(r0), Int64(r1), Int64(r0), output,
                                               Int64(outImage), epi)
                    }
                }
            }
        }

        if threadCount > 1 && chunks >= 2 * threadCount {
            let parts = min(chunks, Parallel.maxParts, threadCount)
            Parallel.run(workers: parts) { part in
                ScratchPool.with(byteCount: chunkBytes) { scratch in
                    for index in stride(from: part, to: chunks, by: parts) { chunk(index, parts: 1, scratch: scratch) }
                }
            }
        } else {
            ScratchPool.with(byteCount: chunkBytes) { scratch in
                for index in 0..<chunks { chunk(index, parts: threadCount, scratch: scratch) }
            }
        }
    }
}
