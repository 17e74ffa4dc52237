import Foundation
import NetworkIR

/// Backward rules of the structural, normalization and resampling operators. Each is the exact
/// derivative of the forward kernel it mirrors (Execution/Kernels/StructuralKernels.swift and
/// ResamplingKernels.swift), checked by finite differences in OperatorGradientTests.
enum StructuralBackward {
    /// The gradients of one node's inputs, in input order.
    static func backward(_ node: Node, input x: Tensor, outputGradient g: Tensor, context: BackwardContext) throws(GradientError) -> [Tensor?] {
        switch node.op {
        case .lrn(let a): return [lrn(a, input: x, outputGradient: g)]
        case .instanceNormalization(let epsilon):
            let scale = try context.value(node.inputs[1])
            let r = instanceNormalization(input: x, scale: scale.storage, epsilon: epsilon, outputGradient: g)
            return [r.input, r.scale, r.bias]
        case .resize(let a): return [resize(a, input: x, outputGradient: g)]
        case .convTranspose(let a):
            let w = try context.value(node.inputs[1])
            let r = convTranspose(a, input: x, weights: w, outputGradient: g)
            return [r.input, r.weights] + (node.inputs.count > 2 ? [r.bias] : [])
        case .reduceSum(let axes, _): return [reduceSum(axes, input: x, outputGradient: g)]
        case .reduceMax(let axes, _): return [reduceMax(axes, input: x, output: try context.value(node.outputs[0]), outputGradient: g)]
        case .expand: return [ElementwiseBackward.sum(g, toShape: x.shape)]
        case .tile: return [tile(g, inputShape: x.shape)]
        case .gather(let a): return [gather(a, g, inputShape: x.shape)]
        case .whereSelect:
            let c = x, a = try context.value(node.inputs[1]), b = try context.value(node.inputs[2])
            let r = whereSelect(condition: c, outputGradient: g)
            return [nil, ElementwiseBackward.sum(r.a, toShape: a.shape), ElementwiseBackward.sum(r.b, toShape: b.shape)]
        case .compare:
            // Piecewise constant: zero gradient almost everywhere.
            let b = try context.value(node.inputs[1])
            return [Tensor(zeros: x.shape), Tensor(zeros: b.shape)]
        default:
            throw GradientError("internal: \(node.op.onnxName) is not a structural operator")
        }
    }

    /// y_c = x_c·D_c^(−β), D_c = bias + (α/size)·Σ_{j∈W(c)} x_j²; so
    /// dx_i = g_i·D_i^(−β) − 2β(α/size)·x_i·Σ_{c: i∈W(c)} g_c·x_c·D_c^(−β−1).
    static func lrn(_ a: LRNAttributes, input x: Tensor, outputGradient g: Tensor) -> Tensor {
        let (n, c) = (x.shape[0], x.shape[1])
        let inner = x.shape[2...].reduce(1, *)
        let factor = a.alpha / Float(a.size)
        var denominator = [Float](repeating: 0, count: x.count)
        for image in 0..<n {
            for ch in 0..<c {
                let w = a.window(ch, channels: c)
                for i in 0..<inner {
                    var s: Float = 0
                    for j in w.first...w.last { let v = x.storage[(image * c + j) * inner + i]; s += v * v }
                    denominator[(image * c + ch) * inner + i] = a.bias + factor * s
                }
            }
        }
        var dx = [Float](repeating: 0, count: x.count)
        for image in 0..<n {
            for ch in 0..<c {
                let w = a.window(ch, channels: c)
                for i in 0..<inner {
                    let k = (image * c + ch) * inner + i
                    let d = denominator[k]
                    dx[k] += g.storage[k] * Foundation.pow(d, -a.beta)
                    let common = -2 * a.beta * factor * g.storage[k] * x.storage[k] * Foundation.pow(d, -a.beta - 1)
                    for j in w.first...w.last {
                        let m = (image * c + j) * inner + i
                        dx[m] += common * x.storage[m]
                    }
                }
            }
        }
        return Tensor(shape: x.shape, storage: dx)
    }

    /// Per (n, c) plane of N elements, x̂ = (x − μ)·r with r = 1/√(σ²+ε):
    /// dx = γ·r·(g − mean(g) − x̂·mean(g·x̂)), dγ = Σ g·x̂, dβ = Σ g.
    static func instanceNormalization(input x: Tensor, scale: [Float], epsilon: Float, outputGradient g: Tensor) -> (input: Tensor, scale: Tensor, bias: Tensor) {
        let c = x.shape[1]
        let inner = x.shape[2...].reduce(1, *)
        var dx = [Float](repeating: 0, count: x.count)
        var dScale = [Double](repeating: 0, count: c), dBias = [Double](repeating: 0, count: c)
        for plane in 0..<(x.count / max(inner, 1)) {
            let base = plane * inner
            var sum = 0.0
            for i in 0..<inner { sum += Double(x.storage[base + i]) }
            let mean = sum / Double(inner)
            var v = 0.0
            for i in 0..<inner { let d = Double(x.storage[base + i]) - mean; v += d * d }
            let r = 1 / (v / Double(inner) + Double(epsilon)).squareRoot()
            var sg = 0.0, sgx = 0.0
            for i in 0..<inner {
                let xh = (Double(x.storage[base + i]) - mean) * r
                sg += Double(g.storage[base + i]); sgx += Double(g.storage[base + i]) * xh
            }
            dScale[plane % c] += sgx
            dBias[plane % c] += sg
            let k = Double(scale[plane % c]) * r
            for i in 0..<inner {
                let xh = (Double(x.storage[base + i]) - mean) * r
                dx[base + i] = Float(k * (Double(g.storage[base + i]) - sg / Double(inner) - xh * sgx / Double(inner)))
            }
        }
        return (Tensor(shape: x.shape, storage: dx), Tensor(shape: [c], storage: dScale.map { Float($0) }),
                Tensor(shape: [c], storage: dBias.map { Float($0) }))
    }

    /// Each output cell's gradient flows back to the input cells it read, with the same weights.
    static func resize(_ a: ResizeAttributes, input x: Tensor, outputGradient g: Tensor) -> Tensor {
        let (h, w) = (x.shape[2], x.shape[3])
        let (oh, ow) = (g.shape[2], g.shape[3])
        let (sy, sx) = (a.mappingScale(axis: 0, input: h, output: oh), a.mappingScale(axis: 1, input: w, output: ow))
        var dx = [Float](repeating: 0, count: x.count)
        for plane in 0..<(x.shape[0] * x.shape[1]) {
            for y in 0..<oh {
                for xo in 0..<ow {
                    let gv = g.storage[(plane * oh + y) * ow + xo]
                    if a.mode == .nearest {
                        let iy = a.nearestIndex(y, scale: sy, input: h, output: oh), ix = a.nearestIndex(xo, scale: sx, input: w, output: ow)
                        dx[(plane * h + iy) * w + ix] += gv
                        continue
                    }
                    let r = a.linearTaps(y, scale: sy, input: h, output: oh), c = a.linearTaps(xo, scale: sx, input: w, output: ow)
                    dx[(plane * h + r.low) * w + c.low] += gv * r.lowWeight * c.lowWeight
                    dx[(plane * h + r.low) * w + c.high] += gv * r.lowWeight * c.highWeight
                    dx[(plane * h + r.high) * w + c.low] += gv * r.highWeight * c.lowWeight
                    dx[(plane * h + r.high) * w + c.high] += gv * r.highWeight * c.highWeight
                }
            }
        }
        return Tensor(shape: x.shape, storage: dx)
    }

    /// The forward pass scatters x through W into y; the backward gathers: for every pair of an
    /// input pixel and a kernel tap that landed inside y, dx += W·g(y) and dW += x·g(y).
    static func convTranspose(_ a: ConvTransposeAttributes, input x: Tensor, weights wt: Tensor, outputGradient g: Tensor)
        -> (input: Tensor, weights: Tensor, bias: Tensor) {
        let (n, cin, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (cout, oh, ow) = (g.shape[1], g.shape[2], g.shape[3])
        let perGroupOut = wt.shape[1], perGroupIn = cin / a.groups
        let pads = a.resolvedPads(inputHeight: h, inputWidth: w)
        let (kh, kw) = (a.kernel[0], a.kernel[1])
        var dx = [Float](repeating: 0, count: x.count), dw = [Float](repeating: 0, count: wt.count)
        var db = [Float](repeating: 0, count: cout)
        for image in 0..<n {
            for oc in 0..<cout {
                let gp = (image * cout + oc) * oh * ow
                for i in 0..<(oh * ow) { db[oc] += g.storage[gp + i] }
                let (group, o) = (oc / perGroupOut, oc % perGroupOut)
                for ic in (group * perGroupIn)..<((group + 1) * perGroupIn) {
                    let xp = (image * cin + ic) * h * w
                    for ky in 0..<kh {
                        for kx in 0..<kw {
                            let wi = ((ic * perGroupOut + o) * kh + ky) * kw + kx
                            var sw: Float = 0
                            for iy in 0..<h {
                                let y = iy * a.strides[0] - pads[0] + ky * a.dilations[0]
                                guard y >= 0, y < oh else { continue }
                                for ix in 0..<w {
                                    let xo = ix * a.strides[1] - pads[1] + kx * a.dilations[1]
                                    guard xo >= 0, xo < ow else { continue }
                                    let gv = g.storage[gp + y * ow + xo]
                                    dx[xp + iy * w + ix] += wt.storage[wi] * gv
                                    sw += x.storage[xp + iy * w + ix] * gv
                                }
                            }
                            dw[wi] += sw
                        }
                    }
                }
            }
        }
        return (Tensor(shape: x.shape, storage: dx), Tensor(shape: wt.shape, storage: dw), Tensor(shape: [cout], storage: db))
    }

    /// The output gradient broadcast back over the reduced axes (an empty axis list is a no-op).
    static func reduceSum(_ axes: [Int], input x: Tensor, outputGradient g: Tensor) -> Tensor {
        let kept = x.shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        let strides = broadcastStrides(kept, rank: x.rank)
        return Tensor(shape: x.shape, storage: gather(x.shape, strides: strides) { g.storage[$0] })
    }

    /// The gradient goes to the maxima, split evenly among ties (as PyTorch's amax does).
    static func reduceMax(_ axes: [Int], input x: Tensor, output y: Tensor, outputGradient g: Tensor) -> Tensor {
        if axes.isEmpty { return Tensor(shape: x.shape, storage: g.storage) }
        let kept = x.shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        let strides = broadcastStrides(kept, rank: x.rank)
        let winners = gather(x.shape, strides: strides) { $0 }
        var ties = [Float](repeating: 0, count: y.count)
        for (i, o) in winners.enumerated() where x.storage[i] == y.storage[o] { ties[o] += 1 }
        var dx = [Float](repeating: 0, count: x.count)
        for (i, o) in winners.enumerated() where x.storage[i] == y.storage[o] { dx[i] = g.storage[o] / ties[o] }
        return Tensor(shape: x.shape, storage: dx)
    }

    /// Tile's gradient: every copy's gradient added back onto the cell it copied.
    /// Gather's adjoint: each output block's gradient is added to the input block it copied (a
    /// repeated index accumulates, an index never gathered gets zero).
    static func gather(_ a: GatherAttributes, _ g: Tensor, inputShape: [Int]) -> Tensor {
        var dx = [Float](repeating: 0, count: inputShape.reduce(1, *))
        let outer = inputShape[..<a.axis].reduce(1, *), inner = inputShape[(a.axis + 1)...].reduce(1, *), extent = inputShape[a.axis]
        var o = 0
        for block in 0..<outer {
            for i in a.indices {
                let to = (block * extent + i) * inner
                for k in 0..<inner { dx[to + k] += g.storage[o + k] }
                o += inner
            }
        }
        return Tensor(shape: inputShape, storage: dx)
    }

    static func tile(_ g: Tensor, inputShape: [Int]) -> Tensor {
        var dx = [Float](repeating: 0, count: inputShape.reduce(1, *))
        let strides = broadcastStrides(inputShape, rank: inputShape.count)
        var index = [Int](repeating: 0, count: g.rank)
        for o in 0..<g.count {
            var s = 0
            for k in 0..<g.rank { s += (index[k] % inputShape[k]) * strides[k] }
            dx[s] += g.storage[o]
            var k = g.rank - 1
            while k >= 0 { index[k] += 1; if index[k] < g.shape[k] { break }; index[k] = 0; k -= 1 }
        }
        return Tensor(shape: inputShape, storage: dx)
    }

    /// Where routes each output cell's gradient to the operand it took (full output shape; the
    /// caller sums it back onto each operand's broadcast shape).
    static func whereSelect(condition c: Tensor, outputGradient g: Tensor) -> (a: Tensor, b: Tensor) {
        let strides = broadcastStrides(c.shape, rank: g.rank)
        let taken = gather(g.shape, strides: strides) { c.storage[$0] }
        var a = [Float](repeating: 0, count: g.count), b = a
        for i in 0..<g.count { if taken[i] != 0 { a[i] = g.storage[i] } else { b[i] = g.storage[i] } }
        return (Tensor(shape: g.shape, storage: a), Tensor(shape: g.shape, storage: b))
    }

    /// For every element of `shape` in row-major order, `read` of its offset under `strides`.
    static func gather<T>(_ shape: [Int], strides: [Int], _ read: (Int) -> T) -> [T] {
        var result = [T]()
        result.reserveCapacity(shape.reduce(1, *))
        var index = [Int](repeating: 0, count: shape.count)
        for _ in 0..<shape.reduce(1, *) {
            var s = 0
            for k in 0..<shape.count { s += index[k] * strides[k] }
            result.append(read(s))
            var k = shape.count - 1
            while k >= 0 { index[k] += 1; if index[k] < shape[k] { break }; index[k] = 0; k -= 1 }
        }
        return result
    }
}
