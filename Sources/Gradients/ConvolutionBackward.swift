import Linalg
import NetworkIR
import Support

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
        let transposed = channels / groups == 1 || !needsInput ? nil : transposedForInput
        // The transposed convolution writes every element of dx; the other paths add into it.
        var dx = [Float](repeating: 0, count: needsInput && transposed == nil ? x.count : 0)
        var dw = [Float](repeating: 0, count: w.count)
        let plane = outputHeight * outputWidth
        var db = [Float](repeating: 0, count: outputs)
        g.storage.withUnsafeBufferPointer { pg in
            for n in 0..<batch {
                for o in 0..<outputs { db[o] += Self.sum(pg.baseAddress! + (n * outputs + o) * plane, count: plane) }
            }
        }
        if channels / groups == 1 {
            direct(x: x, w: w, g: g, dx: &dx, dw: &dw, needsInput: needsInput)
        } else if let transposed {
            try viaGEMM(x: x, w: w, g: g, dx: &dx, dw: &dw, needsInput: false, threads: threads)
            dx = try inputGradient(by: transposed, weights: w, outputGradient: g, batch: batch, count: x.count, threads: threads)
        } else {
            try viaGEMM(x: x, w: w, g: g, dx: &dx, dw: &dw, needsInput: needsInput, threads: threads)
        }
        return (needsInput ? Tensor(shape: x.shape, storage: dx) : nil, Tensor(shape: w.shape, storage: dw),
                Tensor(shape: [outputs], storage: db))
    }

    /// For a stride-1, ungrouped, non-pointwise convolution, dx is itself a forward convolution:
    /// of dY with the weights flipped in both spatial axes and their O and I axes swapped, padded
    /// by d·(k−1) − pad on each side. The forward kernels (shifted GEMM, full-length reductions
    /// of O·kh·kw) run it at forward speed, where Wᵀ·dY has reductions of only O and a col2im
    /// after. Nil when that does not apply (strides, groups, pads wider than the kernel).
    var transposedForInput: ConvGeometry? {
        guard groups == 1, strideHeight == 1, strideWidth == 1, !isPointwise else { return nil }
        let bottom = height - outputHeight + padTop
        let right = width - outputWidth + padLeft
        let top = dilationHeight * (kernelHeight - 1) - padTop
        let left = dilationWidth * (kernelWidth - 1) - padLeft
        guard top >= 0, left >= 0, bottom >= 0, right >= 0 else { return nil }
        return ConvGeometry(inputChannels: outputs, outputChannels: channels, kernelHeight: kernelHeight, kernelWidth: kernelWidth,
                            padTop: top, padLeft: left, padBottom: bottom, padRight: right,
                            dilationHeight: dilationHeight, dilationWidth: dilationWidth)
    }

    /// Σ p[i] over `count` floats in eight interleaved chains (element i in chain i mod 8).
    static func sum(_ p: UnsafePointer<Float>, count: Int) -> Float {
        var chains = SIMD8<Float>()
        var i = 0
        while i + 8 <= count {
            chains += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var tail: Float = 0
        while i < count { tail += p[i]; i += 1 }
        let half = chains.lowHalf + chains.highHalf
        return ((half[0] + half[1]) + (half[2] + half[3])) + tail
    }

    /// dx = conv(dY, W') with W'[c, o, ky, kx] = W[o, c, kh−1−ky, kw−1−kx] (see `transposedForInput`),
    /// `count` floats, every one written by the convolution.
    private func inputGradient(by geometry: ConvGeometry, weights w: Tensor, outputGradient g: Tensor, batch: Int,
                               count: Int, threads: Int) throws(GradientError) -> [Float] {
        let taps = kernelHeight * kernelWidth
        var flipped = [Float](repeating: 0, count: w.count)
        for o in 0..<outputs {
            for c in 0..<channels {
                let source = (o * channels + c) * taps, target = (c * outputs + o) * taps
                for t in 0..<taps { flipped[target + t] = w.storage[source + taps - 1 - t] }
            }
        }
        do {
            // Direct paths, as the forward of the gradient engine (ExecutionOptions.winograd).
            let convolution = try Conv2D(weights: flipped, bias: nil, geometry: geometry, winograd: .never)
            return try g.storage.withUnsafeBufferPointer { pg in
                try [Float](unsafeUninitializedCapacity: count) { pdx, initialized in
                    try convolution.run(input: pg.baseAddress!, batch: batch, inputHeight: outputHeight, inputWidth: outputWidth,
                                        output: pdx.baseAddress!, residual: nil, activation: .none, threads: threads)
                    initialized = count
                }
            }
        } catch {
            throw GradientError("Conv backward (input gradient as a transposed convolution): \(error)")
        }
    }

    /// Whether dW is computed transposed, dWᵀ[Cg·kh·kw × O] = col·dYᵀ (ungrouped convolutions):
    /// the product's rows are then the reduction (a multiple of the tile's rows for 3×3 kernels
    /// over an even channel count) and its B block (depth × O) is small enough to stay in L2, where
    /// dY·colᵀ has O rows (64 = 10 tiles and 4 rows) and streams a depth × Cg·kh·kw block of colᵀ
    /// from memory once per row tile.
    var weightsTransposed: Bool { groups == 1 }

    /// An array of `count` floats that the caller overwrites before reading (no zero fill).
    static func scratch(_ count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    /// Images split over the threads when there are several (each thread its own im2col buffers
    /// and its own dW, one-thread GEMMs; dx of different images never overlap), else one image at
    /// a time with the GEMMs split. Image n goes to part n mod parts and the parts' dW are summed
    /// in part order, so a given thread count always gives the same bits.
    private func viaGEMM(x: Tensor, w: Tensor, g: Tensor, dx: inout [Float], dw: inout [Float], needsInput: Bool,
                         threads: Int) throws(GradientError) {
        let batch = x.shape[0]
        let parts = min(max(threads, 1), batch)
        let reduction = (channels / groups) * kernelHeight * kernelWidth
        // Several images per dW product (when dx is not wanted here and every part has two or
        // more images); that path gathers into scratch of its own, so no per-image im2col buffer.
        let together = !needsInput && batch >= 2 * parts ? (imagesPerWeightProduct ?? 1) : 1
        let scratch = isPointwise || together > 1 ? 0 : reduction * outputHeight * outputWidth
        // Per-part dW (or dWᵀ), summed into dw at the end; a single part with dW itself writes dw.
        let ownTargets = parts > 1 || weightsTransposed
        var partials = [Float](repeating: 0, count: ownTargets ? parts * w.count : 0)
        // im2col writes every element of its buffer, and the dcol product overwrites its own.
        var cols = Self.scratch(parts * scratch)
        var dcols = Self.scratch(needsInput ? parts * scratch : 0)
        var failures = [GradientError?](repeating: nil, count: parts)
        x.storage.withUnsafeBufferPointer { px in
            g.storage.withUnsafeBufferPointer { pg in
                w.storage.withUnsafeBufferPointer { pw in
                    dx.withUnsafeMutableBufferPointer { pdx in
                        dw.withUnsafeMutableBufferPointer { pdw in
                            partials.withUnsafeMutableBufferPointer { ppart in
                                cols.withUnsafeMutableBufferPointer { pcol in
                                    dcols.withUnsafeMutableBufferPointer { pdcol in
                                        failures.withUnsafeMutableBufferPointer { pfail in
                                            let (xBase, gBase, wBase) = (px.baseAddress!, pg.baseAddress!, pw.baseAddress!)
                                            let (dwBase, partBase, dxBase) = (pdw.baseAddress!, ppart.baseAddress, needsInput ? pdx.baseAddress : nil)
                                            let (colBase, dcolBase, failBase) = (pcol.baseAddress, pdcol.baseAddress, pfail.baseAddress!)
                                            let body: (Int) -> Void = { part in
                                                let target = ownTargets ? partBase! + part * w.count : dwBase
                                                let col = colBase.map { $0 + part * scratch }
                                                let dcol = dcolBase.map { $0 + part * scratch }
                                                do throws(GradientError) {
                                                    let images = Array(stride(from: part, to: batch, by: parts))
                                                    if together > 1 {
                                                        try weightGradient(images: images, together: together, x: xBase, g: gBase, dw: target,
                                                                           threads: parts > 1 ? 1 : threads)
                                                        return
                                                    }
                                                    for n in images {
                                                        for gi in 0..<groups {
                                                            try image(n, group: gi, x: xBase, g: gBase, w: wBase, dw: target, dx: dxBase,
                                                                      col: col, dcol: dcol, threads: parts > 1 ? 1 : threads)
                                                        }
                                                    }
                                                } catch { failBase[part] = error }
                                            }
                                            if parts > 1 { WorkerThreads.run(parts: parts, body) } else { body(0) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if let failure = failures.compactMap({ $0 }).first { throw failure }
        guard ownTargets else { return }
        let (count, rows, columns) = (w.count, outputs, reduction)
        let (rowStride, columnStride) = weightsTransposed ? (1, rows) : (columns, 1)
        partials.withUnsafeBufferPointer { pp in
            dw.withUnsafeMutableBufferPointer { pdw in
                let (source, target) = (pp.baseAddress!, pdw.baseAddress!)
                // dw[o, r] = Σ over parts in order of part[o, r] (transposed: part[r, o]), in 16×16
                // tiles so that reads and writes both use whole cache lines; strips of 16 columns r
                // split over the threads.
                parallelFor((columns + 15) / 16, threads: threads, minimumPerThread: 4) { strips in
                    for strip in strips {
                        let r0 = strip * 16, r1 = min(r0 + 16, columns)
                        for o0 in stride(from: 0, to: rows, by: 16) {
                            for o in o0..<min(o0 + 16, rows) {
                                for r in r0..<r1 {
                                    let at = o * rowStride + r * columnStride
                                    var sum = source[at]
                                    for part in 1..<max(parts, 1) { sum += source[part * count + at] }
                                    target[o * columns + r] = sum
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Images whose dW products run as one GEMM (nil: one image at a time). A small output
    /// plane makes dY·colᵀ a product with a short reduction (49 for a 7×7 plane) whose m×n
    /// result is read and written once per image; gathering several images' columns side by
    /// side makes the reduction about 512 long, so dW is read and written once per group of
    /// images. Ungrouped convolutions only.
    var imagesPerWeightProduct: Int? {
        let plane = outputHeight * outputWidth
        guard groups == 1, plane < 512 else { return nil }
        return 512 / plane
    }

    /// dWᵀ += [col₁ … col_k]·[dY₁ … dY_k]ᵀ for `together` images at a time: each image's dY
    /// plane rows and im2col columns copied side by side into scratch of this call's own.
    private func weightGradient(images: [Int], together: Int, x: UnsafePointer<Float>, g: UnsafePointer<Float>,
                                dw: UnsafeMutablePointer<Float>, threads: Int) throws(GradientError) {
        let plane = outputHeight * outputWidth
        let reduction = channels * kernelHeight * kernelWidth
        let widest = min(together, images.count) * plane
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: reduction * widest)
        let gradients = UnsafeMutablePointer<Float>.allocate(capacity: outputs * widest)
        defer { columns.deallocate(); gradients.deallocate() }
        for start in stride(from: 0, to: images.count, by: together) {
            let members = images[start..<min(start + together, images.count)]
            let span = members.count * plane
            for (slot, n) in members.enumerated() {
                im2col(x + n * channels * height * width, channels: channels, into: columns + slot * plane, rowStride: span)
                for o in 0..<outputs {
                    (gradients + o * span + slot * plane).update(from: g + (n * outputs + o) * plane, count: plane)
                }
            }
            try MatrixBackward.product(UnsafePointer(columns), transA: false, UnsafePointer(gradients), transB: true,
                                       m: reduction, n: outputs, k: span, into: dw, accumulate: true, threads: threads)
        }
    }

    /// One image and group: dW += dY·colᵀ (ungrouped: dWᵀ += col·dYᵀ, see `weightsTransposed`),
    /// and dx += col2im(Wᵀ·dY) when `dx` is given.
    private func image(_ n: Int, group gi: Int, x: UnsafePointer<Float>, g: UnsafePointer<Float>, w: UnsafePointer<Float>,
                       dw: UnsafeMutablePointer<Float>, dx: UnsafeMutablePointer<Float>?, col: UnsafeMutablePointer<Float>?,
                       dcol: UnsafeMutablePointer<Float>?, threads: Int) throws(GradientError) {
        let cg = channels / groups, og = outputs / groups
        let reduction = cg * kernelHeight * kernelWidth
        let plane = outputHeight * outputWidth
        let xOffset = (n * channels + gi * cg) * height * width
        let gOffset = (n * outputs + gi * og) * plane
        let wOffset = gi * og * reduction
        let source: UnsafePointer<Float>
        if isPointwise {
            source = x + xOffset
        } else {
            im2col(x + xOffset, channels: cg, into: col!)
            source = UnsafePointer(col!)
        }
        if weightsTransposed {
            try MatrixBackward.product(source, transA: false, g + gOffset, transB: true, m: reduction, n: og, k: plane,
                                       into: dw, accumulate: true, threads: threads)
        } else {
            try MatrixBackward.product(g + gOffset, transA: false, source, transB: true, m: og, n: reduction, k: plane,
                                       into: dw + wOffset, accumulate: true, threads: threads)
        }
        guard let dx else { return }
        if isPointwise {
            try MatrixBackward.product(w + wOffset, transA: true, g + gOffset, transB: false, m: reduction, n: plane, k: og,
                                       into: dx + xOffset, accumulate: true, threads: threads)
        } else {
            try MatrixBackward.product(w + wOffset, transA: true, g + gOffset, transB: false, m: reduction, n: plane, k: og,
                                       into: dcol!, threads: threads)
            col2im(UnsafePointer(dcol!), channels: cg, into: dx + xOffset)
        }
    }

    /// Walks the rows of an im2col matrix: for every (c, ky, kx, oy), the row's offset in col
    /// (rows `rowStride` floats apart, one output row of OW entries each), and the input offset of
    /// the output columns first..<end that read inside the input (stride sw apart), or nil when
    /// the whole output row reads padding. im2col and col2im are each other's adjoint on it.
    private func forEachColumnRow(channels cg: Int, rowStride: Int,
                                  _ body: (_ colOffset: Int, _ inputOffset: Int?, _ first: Int, _ end: Int) -> Void) {
        let columns = (0..<kernelWidth).map(validColumns)
        for c in 0..<cg {
            for ky in 0..<kernelHeight {
                for kx in 0..<kernelWidth {
                    let row = ((c * kernelHeight + ky) * kernelWidth + kx) * rowStride
                    let (first, end) = columns[kx]
                    for oy in 0..<outputHeight {
                        let iy = oy * strideHeight - padTop + ky * dilationHeight
                        let inside = iy >= 0 && iy < height
                        let input = (c * height + iy) * width + first * strideWidth - padLeft + kx * dilationWidth
                        body(row + oy * outputWidth, inside ? input : nil, first, end)
                    }
                }
            }
        }
    }

    /// col[(c·kh + ky)·kw + kx][oy·OW + ox] = x[c, oy·sh − pt + ky·dh, ox·sw − pl + kx·dw], 0 outside;
    /// rows `rowStride` floats apart (OH·OW unless several images sit side by side).
    private func im2col(_ x: UnsafePointer<Float>, channels cg: Int, into col: UnsafeMutablePointer<Float>, rowStride: Int? = nil) {
        let (ow, sw) = (outputWidth, strideWidth)
        forEachColumnRow(channels: cg, rowStride: rowStride ?? outputHeight * outputWidth) { colOffset, inputOffset, first, end in
            let dst = col + colOffset
            guard let inputOffset else {
                dst.update(repeating: 0, count: ow)
                return
            }
            dst.update(repeating: 0, count: first)
            let from = x + inputOffset
            if sw == 1 {
                (dst + first).update(from: from, count: end - first)
            } else {
                for ox in first..<end { dst[ox] = from[(ox - first) * sw] }
            }
            (dst + end).update(repeating: 0, count: ow - end)
        }
    }

    /// The output columns first..<end whose input column ox·sw − pl + kx·dw lies inside the
    /// input (an empty range, first == end, when none does).
    private func validColumns(kx: Int) -> (first: Int, end: Int) {
        let offset = kx * dilationWidth - padLeft
        // ox·sw + offset >= 0  ⇔  ox >= ceil(−offset / sw); ox·sw + offset <= width − 1.
        let first = offset >= 0 ? 0 : (-offset + strideWidth - 1) / strideWidth
        let last = width - 1 - offset < 0 ? -1 : (width - 1 - offset) / strideWidth
        let end = min(last + 1, outputWidth)
        return (min(first, end), end)
    }

    /// The adjoint of `im2col`: each column entry adds into the input cell it was read from.
    private func col2im(_ col: UnsafePointer<Float>, channels cg: Int, into dx: UnsafeMutablePointer<Float>) {
        let sw = strideWidth
        forEachColumnRow(channels: cg, rowStride: outputHeight * outputWidth) { colOffset, inputOffset, first, end in
            guard let inputOffset else { return }
            let src = col + colOffset, to = dx + inputOffset
            for ox in first..<end { to[(ox - first) * sw] += src[ox] }
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
