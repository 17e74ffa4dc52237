import Execution
import Linalg
import NetworkIR
import Support

/// MaxPool, AveragePool and the means (GlobalAveragePool, ReduceMean).
enum PoolingBackward {
    /// Each output's gradient goes to the first maximum of its window (PyTorch's tie rule; a NaN
    /// wins only as a window's first cell). Planes split over the threads: a plane's windows
    /// write only into that plane, so the result is the same for any thread count.
    static func maxPool(_ a: PoolAttributes, input x: Tensor, outputGradient g: Tensor, threads: Int = 1) throws(GradientError) -> Tensor {
        let (planes, h, w, oh, ow) = try layout(input: x, outputGradient: g)
        let windows = PoolWindows(a, height: h, width: w, outputHeight: oh, outputWidth: ow)
        var dx = [Float](repeating: 0, count: x.count)
        x.storage.withUnsafeBufferPointer { px in
            g.storage.withUnsafeBufferPointer { pg in
                dx.withUnsafeMutableBufferPointer { pdx in
                    let (xBase, gBase, dxBase) = (px.baseAddress!, pg.baseAddress!, pdx.baseAddress!)
                    let parts = min(max(threads, 1), planes)
                    WorkerThreads.run(parts: parts) { part in
                        for plane in WorkerThreads.share(part, of: parts, count: planes) {
                            let src = xBase + plane * h * w, dst = dxBase + plane * h * w, grad = gBase + plane * oh * ow
                            for oy in 0..<oh {
                                for ox in 0..<ow {
                                    var best = -Float.infinity, at = -1
                                    windows.forEachCell(oy, ox) { offset in
                                        let v = src[offset]
                                        if v > best || at < 0 { best = v; at = offset }
                                    }
                                    if at >= 0 { dst[at] += grad[oy * ow + ox] }
                                }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: x.shape, storage: dx)
    }

    /// Each output's gradient is shared equally by the cells its divisor counted.
    static func averagePool(_ a: PoolAttributes, countIncludePad: Bool, input x: Tensor, outputGradient g: Tensor) throws(GradientError) -> Tensor {
        try windows(a, input: x, outputGradient: g) { _, cells, padded in
            let divisor = countIncludePad ? padded : cells.count
            guard divisor > 0 else { return [] }
            let share = 1 / Float(divisor)
            return cells.map { ($0, share) }
        }
    }

    /// Planes (N·C), input and output sizes of an NCHW pooling.
    private static func layout(input x: Tensor, outputGradient g: Tensor) throws(GradientError)
        -> (planes: Int, h: Int, w: Int, oh: Int, ow: Int) {
        guard x.rank == 4, g.rank == 4, g.shape[0] * g.shape[1] == x.shape[0] * x.shape[1] else {
            throw GradientError("pooling backward expects NCHW tensors, got \(x.shape) and \(g.shape)")
        }
        return (x.shape[0] * x.shape[1], x.shape[2], x.shape[3], g.shape[2], g.shape[3])
    }

    /// Walks every output window of NCHW pooling; `route` gives (input offset within the plane,
    /// weight) pairs from the window's in-bounds cells and its padded cell count.
    static func windows(_ a: PoolAttributes, input x: Tensor, outputGradient g: Tensor,
                        route: (UnsafeBufferPointer<Float>, [Int], Int) -> [(Int, Float)]) throws(GradientError) -> Tensor {
        let (planes, h, w, oh, ow) = try layout(input: x, outputGradient: g)
        let windows = PoolWindows(a, height: h, width: w, outputHeight: oh, outputWidth: ow)
        var dx = [Float](repeating: 0, count: x.count)
        x.storage.withUnsafeBufferPointer { all in
            var cells: [Int] = []
            for plane in 0..<planes {
                let src = UnsafeBufferPointer(rebasing: all[(plane * h * w)..<((plane + 1) * h * w)])
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        cells.removeAll(keepingCapacity: true)
                        windows.forEachCell(oy, ox) { cells.append($0) }
                        let gv = g.storage[(plane * oh + oy) * ow + ox]
                        for (c, weight) in route(src, cells, windows.paddedCount(oy, ox)) { dx[plane * h * w + c] += gv * weight }
                    }
                }
            }
        }
        return Tensor(shape: x.shape, storage: dx)
    }

    /// The mean over `axes`: every input cell receives its output's gradient / count.
    static func meanOverAxes(_ axes: [Int], input x: Tensor, outputGradient g: Tensor) -> Tensor {
        let keptShape = x.shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        let strides = broadcastStrides(keptShape, rank: x.rank)
        let scale = 1 / Float(axes.reduce(1) { $0 * x.shape[$1] })
        var dx = [Float](repeating: 0, count: x.count)
        var index = [Int](repeating: 0, count: x.rank)
        for i in 0..<x.count {
            var o = 0
            for k in 0..<index.count { o += index[k] * strides[k] }
            dx[i] = g.storage[o] * scale
            var k = index.count - 1
            while k >= 0 { index[k] += 1; if index[k] < x.shape[k] { break }; index[k] = 0; k -= 1 }
        }
        return Tensor(shape: x.shape, storage: dx)
    }
}
