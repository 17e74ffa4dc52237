import CKernels
import Foundation
import Support

/// The transformed weights of the Winograd path: U[ξ] = G·g·Gᵀ for each of the 36 positions ξ
/// of a 6×6 tile, each packed once as the A operand (output × input channels) of its GEMM.
/// Built on the first call that takes the path, so models that never take it pay nothing; 4×
/// the memory of the direct weights (36 against 9 values per channel pair).
final class WinogradWeights: @unchecked Sendable {
    let packed: UnsafeMutablePointer<Float>
    /// Floats between the packed panels of consecutive positions ξ.
    let stride: Int

    /// `weights` OIHW with 3×3 kernels; transformed in Double, then rounded once.
    init(weights: [Float], outputs: Int, inputs: Int, isa: KernelISA) {
        let g: [[Double]] = [[1.0 / 4, 0, 0], [-1.0 / 6, -1.0 / 6, -1.0 / 6], [-1.0 / 6, 1.0 / 6, -1.0 / 6],
                             [1.0 / 24, 1.0 / 12, 1.0 / 6], [1.0 / 24, -1.0 / 12, 1.0 / 6], [0, 0, 1]]
        let pairs = outputs * inputs
        var transformed = [Float](repeating: 0, count: 36 * pairs)
        for pair in 0..<pairs {
            let w = pair * 9
            // t = G·g (6×3), then U = t·Gᵀ (6×6).
            var t = [Double](repeating: 0, count: 18)
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
        stride = Int(ck_f32_packed_a_count(isa.cValue, Int64(outputs), Int64(inputs)))
        packed = .allocate(capacity: max(36 * stride, 1))
        transformed.withUnsafeBufferPointer { source in
            guard let base = source.baseAddress else { return }
            for xi in 0..<36 {
                ck_f32_pack_a(isa.cValue, Int64(outputs), Int64(inputs), base + xi * pairs, inputs, 1,
                              packed + xi * stride)
            }
        }
    }

    deinit { packed.deallocate() }
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
    /// stay within about 4 MiB.
    func winogradRowsPerChunk(tileColumns: Int, totalRows: Int) -> Int {
        let perRow = 36 * (geometry.inputChannels + geometry.outputChannels) * tileColumns
        return min(totalRows, max(1, Self.winogradChunkFloats / perRow))
    }

    static let winogradChunkFloats: Int = {
        if let text = ProcessInfo.processInfo.environment["WEAKSPOT_WINOGRAD_CHUNK"], let floats = Int(text), floats > 0 {
            return floats
        }
        return 1 << 20
    }()

    /// Whether `run` takes the Winograd path for an output plane of this size. The rule looks at
    /// one image only, so an image's result never depends on which images share its batch: the
    /// profiler's adaptive slices, shards and image-parallel forward passes rely on that. The
    /// GEMMs' columns (36 per tile) must be at most half the direct path's 9 per pixel, and one
    /// image must have at least 16 tiles, a micro-kernel's width, so that batch 1 is not starved:
    /// 56×56, 28×28 and 14×14 planes take it, 7×7 (4 tiles) does not.
    public func usesWinograd(outputHeight: Int, outputWidth: Int) -> Bool {
        guard winogradEligible else { return false }
        switch winograd {
        case .never: return false
        case .always: return true
        case .automatic:
            guard !Self.winogradDisabled else { return false }
            let tiles = ((outputHeight + 3) / 4) * ((outputWidth + 3) / 4)
            return tiles >= Self.winogradMinTiles && 2 * 36 * tiles <= 9 * outputHeight * outputWidth
        }
    }

    static let winogradMinTiles = 16

    func winogradWeights() -> WinogradWeights {
        winogradCache.withLock { cached in
            if let cached { return cached }
            let built = WinogradWeights(weights: originalWeights, outputs: geometry.outputChannels,
                                        inputs: geometry.inputChannels, isa: isa)
            cached = built
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
        let tileRows = (outputHeight + 3) / 4, tileColumns = (outputWidth + 3) / 4
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
        let weights = winogradWeights()
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
            var template = ck_gemm_call()
            template.m = Int64(cout); template.n = Int64(tiles); template.k = Int64(cin)
            template.a.kind = CK_OPERAND_PACKED
            template.b.kind = CK_OPERAND_STRIDED
            template.b.rs = pitch; template.b.cs = 1
            template.rsc = pitch; template.csc = 1
            let packed = UnsafePointer(weights.packed)
            GEMMScheduler.run(jobs: 36, m: cout, n: tiles, isa: isa, threads: parts) { xi in
                var call = template
                call.a.data = packed + xi * weights.stride
                call.b.data = UnsafePointer(v + xi * cin * pitch)
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
