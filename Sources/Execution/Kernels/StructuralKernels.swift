import Foundation
import NetworkIR
import Support

/// Calls `body(outputIndex, offsets)` for every element of `shape` in row-major order, with the
/// element offset of each operand whose broadcast `strides` are given: the general strided walk
/// behind Expand, Tile, Where and the comparisons (small tensors in CNNs; clarity over speed).
func forEachBroadcastElement(_ shape: [Int], strides: [[Int]], _ body: (Int, [Int]) -> Void) {
    let total = shape.reduce(1, *)
    guard total > 0 else { return }
    var index = [Int](repeating: 0, count: shape.count)
    var offsets = [Int](repeating: 0, count: strides.count)
    for o in 0..<total {
        body(o, offsets)
        var k = shape.count - 1
        while k >= 0 {
            index[k] += 1
            for j in strides.indices { offsets[j] += strides[j][k] }
            if index[k] < shape[k] { break }
            for j in strides.indices { offsets[j] -= strides[j][k] * shape[k] }
            index[k] = 0
            k -= 1
        }
    }
}

/// Cross-channel LRN: y = x / (bias + alpha/size · Σ x²)^beta over each channel's window.
struct LRNKernel: StepKernel {
    let attributes: LRNAttributes
    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor {
        let x = inputs[0]
        let (n, c) = (x.shape[0], x.shape[1])
        let inner = x.shape[2...].reduce(1, *)
        let a = attributes
        let factor = a.alpha / Float(a.size)
        return Tensor(shape: x.shape) { out in
            x.storage.withUnsafeBufferPointer { src in
                let po = SendablePointer(base: out.baseAddress!)
                parallelFor(n * c, threads: threads, minimumPerThread: max(1, 4096 / max(inner, 1))) { range in
                    var sum = [Float](repeating: 0, count: inner)
                    for plane in range {
                        let (image, channel) = (plane / c, plane % c)
                        let window = a.window(channel, channels: c)
                        for i in 0..<inner { sum[i] = 0 }
                        for j in window.first...window.last {
                            let row = src.baseAddress! + (image * c + j) * inner
                            for i in 0..<inner { sum[i] += row[i] * row[i] }
                        }
                        let row = src.baseAddress! + plane * inner, dst = po.base + plane * inner
                        for i in 0..<inner { dst[i] = row[i] / Foundation.pow(a.bias + factor * sum[i], a.beta) }
                    }
                }
            }
        }
    }
}

/// InstanceNormalization: each (n, c) plane normalized by its own mean and (population)
/// variance, then scale[c]·x̂ + bias[c]. Statistics accumulate in Double.
struct InstanceNormalizationKernel: StepKernel {
    let scale: [Float]
    let bias: [Float]
    let epsilon: Float

    /// Mean and 1/√(var+ε) of one plane; shared with the backward rule's recomputation.
    static func statistics(_ p: UnsafePointer<Float>, _ count: Int, epsilon: Float) -> (mean: Float, inverseDeviation: Float) {
        var s = 0.0
        for i in 0..<count { s += Double(p[i]) }
        let mean = s / Double(max(count, 1))
        var v = 0.0
        for i in 0..<count { let d = Double(p[i]) - mean; v += d * d }
        let variance = v / Double(max(count, 1))
        return (Float(mean), Float(1 / (variance + Double(epsilon)).squareRoot()))
    }

    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor {
        let x = inputs[0]
        let c = x.shape[1]
        guard c == scale.count else { throw ExecutionError("expected \(scale.count) channels, got \(c)") }
        let inner = x.shape[2...].reduce(1, *)
        let planes = x.count / max(inner, 1)
        let scale = self.scale, bias = self.bias, epsilon = self.epsilon
        return Tensor(shape: x.shape) { out in
            x.storage.withUnsafeBufferPointer { src in
                let po = SendablePointer(base: out.baseAddress!)
                parallelFor(planes, threads: threads, minimumPerThread: max(1, 4096 / max(inner, 1))) { range in
                    for plane in range {
                        let row = src.baseAddress! + plane * inner, dst = po.base + plane * inner
                        let s = Self.statistics(row, inner, epsilon: epsilon)
                        let k = scale[plane % c] * s.inverseDeviation, b = bias[plane % c]
                        for i in 0..<inner { dst[i] = (row[i] - s.mean) * k + b }
                    }
                }
            }
        }
    }
}

/// 2-D transposed convolution, scattering each input pixel through the kernel into the output:
/// out[n, g·Cog+o, ih·s−p+kh·d, iw·s−p+kw·d] += x[n, g·Cig+i, ih, iw] · W[g·Cig+i, o, kh, kw].
/// One output plane per task, so tasks never write the same memory.
struct ConvTransposeKernel: StepKernel {
    let attributes: ConvTransposeAttributes
    let weights: Tensor
    let bias: [Float]?

    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor {
        let x = inputs[0]
        let (n, cin, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let a = attributes
        let perGroupOut = weights.shape[1], groups = a.groups
        let perGroupIn = cin / groups
        let cout = perGroupOut * groups
        let size = a.outputSize(inputHeight: h, inputWidth: w)
        let (oh, ow) = (size.height, size.width)
        let pads = a.resolvedPads(inputHeight: h, inputWidth: w)
        let (kh, kw) = (a.kernel[0], a.kernel[1])
        let (sh, sw, dh, dw) = (a.strides[0], a.strides[1], a.dilations[0], a.dilations[1])
        let bias = self.bias
        return Tensor(shape: [n, cout, oh, ow]) { out in
            x.storage.withUnsafeBufferPointer { src in
                weights.storage.withUnsafeBufferPointer { wp in
                    let po = SendablePointer(base: out.baseAddress!)
                    parallelFor(n * cout, threads: threads) { range in
                        for plane in range {
                            let (image, oc) = (plane / cout, plane % cout)
                            let (g, o) = (oc / perGroupOut, oc % perGroupOut)
                            let dst = po.base + plane * oh * ow
                            let initial = bias?[oc] ?? 0
                            for i in 0..<(oh * ow) { dst[i] = initial }
                            for ic in (g * perGroupIn)..<((g + 1) * perGroupIn) {
                                let xs = src.baseAddress! + (image * cin + ic) * h * w
                                let ws = wp.baseAddress! + (ic * perGroupOut + o) * kh * kw
                                for ky in 0..<kh {
                                    for kx in 0..<kw {
                                        let wv = ws[ky * kw + kx]
                                        for iy in 0..<h {
                                            let y = iy * sh - pads[0] + ky * dh
                                            guard y >= 0, y < oh else { continue }
                                            for ix in 0..<w {
                                                let xo = ix * sw - pads[1] + kx * dw
                                                if xo >= 0 && xo < ow { dst[y * ow + xo] += wv * xs[iy * w + ix] }
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

/// ReduceSum and ReduceMax over any axes (empty axes: the input unchanged).
struct ReduceKernel: StepKernel {
    let op: Operator
    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor {
        let x = inputs[0]
        let axes: [Int], isMax: Bool
        switch op {
        case .reduceSum(let a, _): (axes, isMax) = (a, false)
        case .reduceMax(let a, _): (axes, isMax) = (a, true)
        default: throw ExecutionError("internal: ReduceKernel for \(op.onnxName)")
        }
        let shape: [Int]
        do { shape = try op.outputShape([x.shape], batch: batch) } catch { throw ExecutionError(error.message) }
        if axes.isEmpty { return Tensor(shape: shape, storage: x.storage) }
        let kept = x.shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        let outStrides = broadcastStrides(kept, rank: x.rank)
        var result = [Float](repeating: isMax ? -Float.infinity : 0, count: kept.reduce(1, *))
        x.storage.withUnsafeBufferPointer { src in
            forEachBroadcastElement(x.shape, strides: [outStrides]) { i, offsets in
                if isMax { result[offsets[0]] = max(result[offsets[0]], src[i]) } else { result[offsets[0]] += src[i] }
            }
        }
        return Tensor(shape: shape, storage: result)
    }
}

/// Expand (numpy broadcast to a target shape) and Tile (repeat each axis).
struct BroadcastCopyKernel: StepKernel {
    let op: Operator
    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor {
        let x = inputs[0]
        let shape: [Int]
        do { shape = try op.outputShape([x.shape], batch: batch) } catch { throw ExecutionError(error.message) }
        var result = [Float](repeating: 0, count: shape.reduce(1, *))
        if case .tile = op {
            // Tile: output index k on an axis reads k mod the input's size.
            let strides = broadcastStrides(x.shape, rank: x.rank)
            var index = [Int](repeating: 0, count: shape.count)
            for o in result.indices {
                var s = 0
                for k in 0..<shape.count { s += (index[k] % x.shape[k]) * strides[k] }
                result[o] = x.storage[s]
                var k = shape.count - 1
                while k >= 0 { index[k] += 1; if index[k] < shape[k] { break }; index[k] = 0; k -= 1 }
            }
        } else {
            x.storage.withUnsafeBufferPointer { src in
                forEachBroadcastElement(shape, strides: [broadcastStrides(x.shape, rank: shape.count)]) { o, offsets in result[o] = src[offsets[0]] }
            }
        }
        return Tensor(shape: shape, storage: result)
    }
}

/// Where(condition, x, y) and Equal/Less/Greater with numpy broadcasting.
struct SelectionKernel: StepKernel {
    let op: Operator
    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor {
        let shape: [Int]
        do { shape = try op.outputShape(inputs.map(\.shape), batch: batch) } catch { throw ExecutionError(error.message) }
        var result = [Float](repeating: 0, count: shape.reduce(1, *))
        let strides = inputs.map { broadcastStrides($0.shape, rank: shape.count) }
        switch op {
        case .whereSelect:
            let (c, a, b) = (inputs[0].storage, inputs[1].storage, inputs[2].storage)
            forEachBroadcastElement(shape, strides: strides) { o, s in result[o] = c[s[0]] != 0 ? a[s[1]] : b[s[2]] }
        case .compare(let kind):
            let (a, b) = (inputs[0].storage, inputs[1].storage)
            forEachBroadcastElement(shape, strides: strides) { o, s in result[o] = kind.holds(a[s[0]], b[s[1]]) ? 1 : 0 }
        default:
            throw ExecutionError("internal: SelectionKernel for \(op.onnxName)")
        }
        return Tensor(shape: shape, storage: result)
    }
}

/// Gather along a non-batch axis with constant indices: each (outer, index) block of `inner`
/// contiguous elements is copied from the input's (outer, indices[j]) block.
struct GatherKernel: StepKernel {
    let attributes: GatherAttributes
    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor {
        let x = inputs[0]
        let shape: [Int]
        do { shape = try Operator.gather(attributes).outputShape([x.shape], batch: batch) } catch { throw ExecutionError(error.message) }
        let axis = attributes.axis
        let outer = x.shape[..<axis].reduce(1, *), inner = x.shape[(axis + 1)...].reduce(1, *), extent = x.shape[axis]
        let indices = attributes.indices
        var result = [Float](repeating: 0, count: shape.reduce(1, *))
        x.storage.withUnsafeBufferPointer { src in
            result.withUnsafeMutableBufferPointer { dst in
                var o = 0
                for block in 0..<outer {
                    for i in indices {
                        let from = (block * extent + i) * inner
                        for k in 0..<inner { dst[o + k] = src[from + k] }
                        o += inner
                    }
                }
            }
        }
        return Tensor(shape: shape, storage: result)
    }
}
