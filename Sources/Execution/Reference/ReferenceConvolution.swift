import NetworkIR
import Support

/// Direct convolution, NCHW input, OIHW weights: the slow, obviously correct path that the fast
/// kernels are checked against, and the fallback where they do not apply.
/// out[n, o, y, x] = bias[o] + Σ_{i, ky, kx} in[n, g·Cg + i, y·s − p + ky·d, x·s − p + kx·d] · w[o, i, ky, kx]
enum ReferenceConvolution {
    static func run(input: Tensor, weights: Tensor, bias: [Float]?, attributes a: ConvAttributes, threads: Int) -> Tensor {
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let (o, cg, kh, kw) = (weights.shape[0], weights.shape[1], weights.shape[2], weights.shape[3])
        let groups = a.groups
        let og = o / groups
        let size = a.outputSize(inputHeight: h, inputWidth: w)
        let (oh, ow) = (size.height, size.width)
        let pads = a.resolvedPads(inputHeight: h, inputWidth: w)
        let (sh, sw, dh, dw) = (a.strides[0], a.strides[1], a.dilations[0], a.dilations[1])
        return Tensor(shape: [n, o, oh, ow]) { out in
            input.storage.withUnsafeBufferPointer { src in
                weights.storage.withUnsafeBufferPointer { wt in
                    let po = SendablePointer(base: out.baseAddress!)
                    parallelFor(n * o, threads: threads) { range in
                        for plane in range {
                            let (b, oc) = (plane / o, plane % o)
                            let g = oc / og
                            let dst = po.base + plane * oh * ow
                            let initial = bias?[oc] ?? 0
                            for i in 0..<(oh * ow) { dst[i] = initial }
                            for ic in 0..<cg {
                                let plane = src.baseAddress! + (b * c + g * cg + ic) * h * w
                                for ky in 0..<kh {
                                    for kx in 0..<kw {
                                        let weight = wt[((oc * cg + ic) * kh + ky) * kw + kx]
                                        for y in 0..<oh {
                                            let iy = y * sh - pads[0] + ky * dh
                                            guard iy >= 0 && iy < h else { continue }
                                            let row = plane + iy * w
                                            let drow = dst + y * ow
                                            for x in 0..<ow {
                                                let ix = x * sw - pads[1] + kx * dw
                                                if ix >= 0 && ix < w { drow[x] += row[ix] * weight }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
