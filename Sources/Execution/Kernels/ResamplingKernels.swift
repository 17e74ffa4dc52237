import NetworkIR
import Support

/// Resize / Upsample on H and W, nearest or bilinear, with ONNX Runtime's coordinate rules
/// (ResizeAttributes). The source indices and weights of each output row and column are
/// computed once per run; every (n, c) plane then reuses them.
struct ResizeKernel: StepKernel {
    let attributes: ResizeAttributes

    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor {
        let x = inputs[0]
        let (h, w) = (x.shape[2], x.shape[3])
        let a = attributes
        let size = a.outputSize(height: h, width: w)
        let (oh, ow) = (size.height, size.width)
        let (sy, sx) = (a.mappingScale(axis: 0, input: h, output: oh), a.mappingScale(axis: 1, input: w, output: ow))
        let planes = x.shape[0] * x.shape[1]
        let rows = (0..<oh).map { a.linearTaps($0, scale: sy, input: h, output: oh) }
        let columns = (0..<ow).map { a.linearTaps($0, scale: sx, input: w, output: ow) }
        let nearestRows = (0..<oh).map { a.nearestIndex($0, scale: sy, input: h, output: oh) }
        let nearestColumns = (0..<ow).map { a.nearestIndex($0, scale: sx, input: w, output: ow) }
        let linear = a.mode == .linear
        return Tensor(shape: [x.shape[0], x.shape[1], oh, ow]) { out in
            x.storage.withUnsafeBufferPointer { src in
                let po = SendablePointer(base: out.baseAddress!)
                parallelFor(planes, threads: threads, minimumPerThread: max(1, 4096 / max(oh * ow, 1))) { range in
                    for plane in range {
                        let s = src.baseAddress! + plane * h * w, d = po.base + plane * oh * ow
                        for y in 0..<oh {
                            if !linear {
                                let row = s + nearestRows[y] * w
                                for x in 0..<ow { d[y * ow + x] = row[nearestColumns[x]] }
                                continue
                            }
                            let r = rows[y]
                            let top = s + r.low * w, bottom = s + r.high * w
                            for x in 0..<ow {
                                let c = columns[x]
                                d[y * ow + x] = c.lowWeight * r.lowWeight * top[c.low] + c.highWeight * r.lowWeight * top[c.high]
                                    + c.lowWeight * r.highWeight * bottom[c.low] + c.highWeight * r.highWeight * bottom[c.high]
                            }
                        }
                    }
                }
            }
        }
    }
}
