import CKernels
import Support

/// The direct depthwise path: channels split across threads, one C kernel call per block.
extension Conv2D {
    /// Channels per unit of work: the C kernel computes small planes 8 channels at a time (one
    /// vector per pixel), so splits at multiples of 8 leave no part with a partial block.
    static let depthwiseChannelBlock = 8

    func runDepthwise(shape: UnsafePointer<ck_im2col>, batch: Int, input: UnsafePointer<Float>,
                      output: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, epilogue: Epilogue,
                      inImage: Int, outImage: Int, threads: Int) {
        let channels = geometry.inputChannels
        let block = Self.depthwiseChannelBlock
        let blocks = (channels + block - 1) / block
        let units = batch * blocks
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
                    // Units of one image are consecutive blocks: one call for the run of them.
                    let image = unit / blocks, b0 = unit % blocks
                    let b1 = min(blocks, b0 + (mine.upperBound - unit))
                    let c0 = b0 * block, c1 = min(channels, b1 * block)
                    var e = base
                    if let residual = epilogue.residual { e.residual = residual + image * outImage }
                    ck_f32_depthwise(isa.cValue, shape, Int64(c0), Int64(c1), input + image * inImage, weights,
                                     output + image * outImage, &e, scratch.assumingMemoryBound(to: Float.self))
                    unit += b1 - b0
                }
            }
        }
    }
}
