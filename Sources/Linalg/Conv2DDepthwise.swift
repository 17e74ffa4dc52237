import CKernels
import Support

/// The direct depthwise path: channels split across threads, one C kernel call per block.
extension Conv2D {
    func runDepthwise(shape: UnsafePointer<ck_im2col>, batch: Int, input: UnsafePointer<Float>,
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
