import NetworkIR
import Linalg
import Support

/// MaxPool and AveragePool over NCHW, one (n, c) plane per task.
struct PoolKernel: StepKernel {
    let attributes: PoolAttributes
    /// nil for max pooling; for average pooling, whether padded cells count in the divisor.
    let averageCountIncludingPad: Bool?

    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor {
        let x = inputs[0]
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let size = attributes.outputSize(inputHeight: h, inputWidth: w)
        let (oh, ow) = (size.height, size.width)
        let pads = attributes.resolvedPads(inputHeight: h, inputWidth: w)
        let (kh, kw) = (attributes.kernel[0], attributes.kernel[1])
        let (sh, sw) = (attributes.strides[0], attributes.strides[1])
        let (dh, dw) = (attributes.dilations[0], attributes.dilations[1])
        let average = averageCountIncludingPad
        if average == nil, n * c > 0,
           let pool = try? MaxPool2D(kernelHeight: kh, kernelWidth: kw, strideHeight: sh, strideWidth: sw,
                                     padTop: pads[0], padLeft: pads[1], dilationHeight: dh, dilationWidth: dw) {
            var failed = false
            let y = Tensor(shape: [n, c, oh, ow]) { out in
                x.storage.withUnsafeBufferPointer { input in
                    do {
                        try pool.run(input: input.baseAddress!, planes: n * c, inputHeight: h, inputWidth: w,
                                     output: out.baseAddress!, outputHeight: oh, outputWidth: ow, threads: threads)
                    } catch { failed = true }
                }
            }
            if !failed { return y }
        }
        let windows = PoolWindows(attributes, height: h, width: w, outputHeight: oh, outputWidth: ow)
        return Tensor(shape: [n, c, oh, ow]) { out in
            x.storage.withUnsafeBufferPointer { input in
                let po = SendablePointer(base: out.baseAddress!)
                parallelFor(n * c, threads: threads, minimumPerThread: max(1, 4096 / max(oh * ow, 1))) { range in
                    for plane in range {
                        let src = input.baseAddress! + plane * h * w
                        let dst = po.base + plane * oh * ow
                        for y in 0..<oh {
                            for xo in 0..<ow {
                                var best = -Float.infinity, sum: Float = 0, cells = 0
                                windows.forEachCell(y, xo) { offset in
                                    let v = src[offset]
                                    best = max(best, v)
                                    sum += v
                                    cells += 1
                                }
                                if let includePad = average {
                                    let divisor = includePad ? windows.paddedCount(y, xo) : cells
                                    dst[y * ow + xo] = divisor > 0 ? sum / Float(divisor) : 0
                                } else {
                                    dst[y * ow + xo] = best
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// GlobalAveragePool and ReduceMean over trailing contiguous axes (the spatial mean of NCHW).
struct MeanOverTrailingAxesKernel: StepKernel {
    /// The output shape's rule: keeps leading axes; the reduced ones become 1 or vanish.
    let reducedFrom: Int
    let keepDims: Bool

    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor {
        let x = inputs[0]
        let outer = x.shape[..<reducedFrom].reduce(1, *)
        let inner = x.shape[reducedFrom...].reduce(1, *)
        let shape = Array(x.shape[..<reducedFrom]) + (keepDims ? [Int](repeating: 1, count: x.shape.count - reducedFrom) : [])
        return Tensor(shape: shape) { out in
            x.storage.withUnsafeBufferPointer { input in
                let po = SendablePointer(base: out.baseAddress!)
                parallelFor(outer, threads: threads, minimumPerThread: max(1, 8192 / max(inner, 1))) { range in
                    for o in range {
                        let src = input.baseAddress! + o * inner
                        var sum: Float = 0
                        for i in 0..<inner { sum += src[i] }
                        po.base[o] = sum / Float(inner)
                    }
                }
            }
        }
    }
}

/// ReduceMean over any axes, by a general strided walk (the slow path).
struct ReduceMeanKernel: StepKernel {
    let axes: [Int]
    let keepDims: Bool

    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor {
        let x = inputs[0]
        let keptShape = x.shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        var sums = [Float](repeating: 0, count: keptShape.reduce(1, *))
        let outStrides = broadcastStrides(keptShape, rank: keptShape.count)
        var index = [Int](repeating: 0, count: x.shape.count)
        for v in x.storage {
            var o = 0
            for k in 0..<index.count { o += index[k] * outStrides[k] }
            sums[o] += v
            var k = index.count - 1
            while k >= 0 { index[k] += 1; if index[k] < x.shape[k] { break }; index[k] = 0; k -= 1 }
        }
        let n = Float(axes.reduce(1) { $0 * x.shape[$1] })
        let shape = keepDims ? keptShape : x.shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
        return Tensor(shape: shape, storage: sums.map { $0 / n })
    }
}
