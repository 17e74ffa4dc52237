import NetworkIR

/// The backward pass of a 2-D convolution (groups, strides, pads, dilations).
///
/// Per image and group, with col = im2col(x) [Cg·kh·kw × OH·OW]: dW += dY·colᵀ and
/// dx = col2im(Wᵀ·dY), both on the Linalg GEMM; a 1×1 stride-1 unpadded conv uses x itself as
/// col. Convolutions with one input channel per group (depthwise) run as direct loops, where a
/// GEMM would have a reduction of one row.
struct ConvolutionBackward {
    let channels: Int, height: Int, width: Int
    let outputs: Int, groups: Int
    let kernelHeight: Int, kernelWidth: Int
    let strideHeight: Int, strideWidth: Int
    let dilationHeight: Int, dilationWidth: Int
    let padTop: Int, padLeft: Int
    let outputHeight: Int, outputWidth: Int

    init(attributes a: ConvAttributes, inputShape: [Int], weightShape: [Int]) throws(GradientError) {
        guard inputShape.count == 4, weightShape.count == 4 else {
            throw GradientError("Conv backward expects an NCHW input and OIHW weights, got \(inputShape) and \(weightShape)")
        }
        (channels, height, width) = (inputShape[1], inputShape[2], inputShape[3])
        (outputs, groups) = (weightShape[0], a.groups)
        (kernelHeight, kernelWidth) = (weightShape[2], weightShape[3])
        (strideHeight, strideWidth) = (a.strides[0], a.strides[1])
        (dilationHeight, dilationWidth) = (a.dilations[0], a.dilations[1])
        let pads = a.resolvedPads(inputHeight: height, inputWidth: width)
        (padTop, padLeft) = (pads[0], pads[1])
        let size = a.outputSize(inputHeight: height, inputWidth: width)
        (outputHeight, outputWidth) = (size.height, size.width)
        guard groups >= 1, channels % groups == 0, outputs % groups == 0, weightShape[1] == channels / groups else {
            throw GradientError("Conv backward: weights \(weightShape) do not fit \(channels) input channels in \(groups) groups")
        }
    }

    var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideHeight == 1 && strideWidth == 1 && padTop == 0 && padLeft == 0
            && outputHeight == height && outputWidth == width
    }

    func run(input x: Tensor, weights w: Tensor, outputGradient g: Tensor, threads: Int,
             needsInput: Bool) throws(GradientError) -> (input: Tensor?, weights: Tensor, bias: Tensor) {
        let batch = x.shape[0]
        guard g.shape == [batch, outputs, outputHeight, outputWidth] else {
            throw GradientError("Conv backward: output gradient \(g.shape) does not match the output [\(batch), \(outputs), \(outputHeight), \(outputWidth)]")
        }
        var dx = [Float](repeating: 0, count: needsInput ? x.count : 0)
        var dw = [Float](repeating: 0, count: w.count)
        let plane = outputHeight * outputWidth
        var db = [Float](repeating: 0, count: outputs)
        for n in 0..<batch {
            for o in 0..<outputs {
                var s: Float = 0
                let base = (n * outputs + o) * plane
                for i in 0..<plane { s += g.storage[base + i] }
                db[o] += s
            }
        }
        if channels / groups == 1 {
            direct(x: x, w: w, g: g, dx: &dx, dw: &dw, needsInput: needsInput)
        } else {
            try viaGEMM(x: x, w: w, g: g, dx: &dx, dw: &dw, needsInput: needsInput, threads: threads)
        }
        return (needsInput ? Tensor(shape: x.shape, storage: dx) : nil, Tensor(shape: w.shape, storage: dw),
                Tensor(shape: [outputs], storage: db))
    }

    private func viaGEMM(x: Tensor, w: Tensor, g: Tensor, dx: inout [Float], dw: inout [Float], needsInput: Bool,
                         threads: Int) throws(GradientError) {
        let batch = x.shape[0]
        let cg = channels / groups, og = outputs / groups
        let reduction = cg * kernelHeight * kernelWidth
        let plane = outputHeight * outputWidth
        let pointwise = isPointwise
        var col = [Float](repeating: 0, count: pointwise ? 0 : reduction * plane)
        var dcol = [Float](repeating: 0, count: needsInput && !pointwise ? reduction * plane : 0)
        for n in 0..<batch {
            for gi in 0..<groups {
                let xOffset = (n * channels + gi * cg) * height * width
                let gOffset = (n * outputs + gi * og) * plane
                let wOffset = gi * og * reduction
                if !pointwise { im2col(x.storage, offset: xOffset, channels: cg, into: &col) }
                try x.storage.withUnsafeBufferPointer { (px) throws(GradientError) in
                    try g.storage.withUnsafeBufferPointer { (pg) throws(GradientError) in
                        try w.storage.withUnsafeBufferPointer { (pw) throws(GradientError) in
                            try col.withUnsafeBufferPointer { (pc) throws(GradientError) in
                                try dw.withUnsafeMutableBufferPointer { (pdw) throws(GradientError) in
                                    let source = pointwise ? px.baseAddress! + xOffset : pc.baseAddress!
                                    try MatrixBackward.product(pg.baseAddress! + gOffset, transA: false, source, transB: true,
                                                               m: og, n: reduction, k: plane, into: pdw.baseAddress! + wOffset,
                                                               accumulate: true, threads: threads)
                                }
                            }
                            guard needsInput else { return }
                            if pointwise {
                                try dx.withUnsafeMutableBufferPointer { (pdx) throws(GradientError) in
                                    try MatrixBackward.product(pw.baseAddress! + wOffset, transA: true, pg.baseAddress! + gOffset, transB: false,
                                                               m: reduction, n: plane, k: og, into: pdx.baseAddress! + xOffset,
                                                               accumulate: true, threads: threads)
                                }
                            } else {
                                try dcol.withUnsafeMutableBufferPointer { (pdc) throws(GradientError) in
                                    try MatrixBackward.product(pw.baseAddress! + wOffset, transA: true, pg.baseAddress! + gOffset, transB: false,
                                                               m: reduction, n: plane, k: og, into: pdc.baseAddress!, threads: threads)
                                }
                            }
                        }
                    }
                }
                if needsInput && !pointwise { col2im(dcol, channels: cg, into: &dx, offset: xOffset) }
            }
        }
    }

    /// col[(c·kh + ky)·kw + kx][oy·OW + ox] = x[c, oy·sh − pt + ky·dh, ox·sw − pl + kx·dw], 0 outside.
    private func im2col(_ x: [Float], offset: Int, channels cg: Int, into col: inout [Float]) {
        let plane = outputHeight * outputWidth
        col.withUnsafeMutableBufferPointer { pc in
            x.withUnsafeBufferPointer { px in
                for c in 0..<cg {
                    let src = px.baseAddress! + offset + c * height * width
                    for ky in 0..<kernelHeight {
                        for kx in 0..<kernelWidth {
                            let row = pc.baseAddress! + ((c * kernelHeight + ky) * kernelWidth + kx) * plane
                            for oy in 0..<outputHeight {
                                let iy = oy * strideHeight - padTop + ky * dilationHeight
                                let dst = row + oy * outputWidth
                                guard iy >= 0 && iy < height else {
                                    for ox in 0..<outputWidth { dst[ox] = 0 }
                                    continue
                                }
                                for ox in 0..<outputWidth {
                                    let ix = ox * strideWidth - padLeft + kx * dilationWidth
                                    dst[ox] = ix >= 0 && ix < width ? src[iy * width + ix] : 0
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of `im2col`: each column entry adds into the input cell it was read from.
    private func col2im(_ col: [Float], channels cg: Int, into dx: inout [Float], offset: Int) {
        let plane = outputHeight * outputWidth
        col.withUnsafeBufferPointer { pc in
            dx.withUnsafeMutableBufferPointer { pd in
                for c in 0..<cg {
                    let dst = pd.baseAddress! + offset + c * height * width
                    for ky in 0..<kernelHeight {
                        for kx in 0..<kernelWidth {
                            let row = pc.baseAddress! + ((c * kernelHeight + ky) * kernelWidth + kx) * plane
                            for oy in 0..<outputHeight {
                                let iy = oy * strideHeight - padTop + ky * dilationHeight
                                guard iy >= 0 && iy < height else { continue }
                                let src = row + oy * outputWidth
                                for ox in 0..<outputWidth {
                                    let ix = ox * strideWidth - padLeft + kx * dilationWidth
                                    if ix >= 0 && ix < width { dst[iy * width + ix] += src[ox] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// One input channel per group: each output channel o reads input channel o / (O/groups).
    private func direct(x: Tensor, w: Tensor, g: Tensor, dx: inout [Float], dw: inout [Float], needsInput: Bool) {
        let batch = x.shape[0]
        let og = outputs / groups
        let taps = kernelHeight * kernelWidth
        x.storage.withUnsafeBufferPointer { px in
            g.storage.withUnsafeBufferPointer { pg in
                w.storage.withUnsafeBufferPointer { pw in
                    dx.withUnsafeMutableBufferPointer { pdx in
                        dw.withUnsafeMutableBufferPointer { pdw in
                            for n in 0..<batch {
                                for o in 0..<outputs {
                                    let c = o / og
                                    let src = px.baseAddress! + (n * channels + c) * height * width
                                    let grad = pg.baseAddress! + (n * outputs + o) * outputHeight * outputWidth
                                    for ky in 0..<kernelHeight {
                                        for kx in 0..<kernelWidth {
                                            let tap = o * taps + ky * kernelWidth + kx
                                            let weight = pw[tap]
                                            var sum: Float = 0
                                            for oy in 0..<outputHeight {
                                                let iy = oy * strideHeight - padTop + ky * dilationHeight
                                                guard iy >= 0 && iy < height else { continue }
                                                let row = grad + oy * outputWidth
                                                for ox in 0..<outputWidth {
                                                    let ix = ox * strideWidth - padLeft + kx * dilationWidth
                                                    guard ix >= 0 && ix < width else { continue }
                                                    let gv = row[ox]
                                                    sum += gv * src[iy * width + ix]
                                                    if needsInput { pdx[(n * channels + c) * height * width + iy * width + ix] += gv * weight }
                                                }
                                            }
                                            pdw[tap] += sum
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
