import NetworkIR
import Support

/// Reshape, Flatten, Squeeze, Unsqueeze: the same elements under a new shape (storage shared).
struct ReshapeKernel: StepKernel {
    let op: Operator
    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor {
        var x = inputs[0]
        do { x.shape = try op.outputShape([x.shape], batch: batch) } catch { throw ExecutionError(error.message) }
        return x
    }
}

/// Transpose by a general strided copy.
struct TransposeKernel: StepKernel {
    let permutation: [Int]
    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor {
        let x = inputs[0]
        let shape = permutation.map { x.shape[$0] }
        let inStrides = broadcastStrides(x.shape, rank: x.shape.count)
        let srcStrides = permutation.map { inStrides[$0] }
        let rank = shape.count
        let inner = rank > 0 ? shape[rank - 1] : 1
        let innerStride = rank > 0 ? srcStrides[rank - 1] : 0
        let outer = x.count / max(inner, 1)
        return Tensor(shape: shape) { out in
            x.storage.withUnsafeBufferPointer { src in
                let po = SendablePointer(base: out.baseAddress!)
                parallelFor(outer, threads: threads, minimumPerThread: max(1, 8192 / max(inner, 1))) { range in
                    for o in range {
                        var rest = o, offset = 0
                        var k = rank - 2
                        while k >= 0 {
                            offset += (rest % shape[k]) * srcStrides[k]
                            rest /= shape[k]
                            k -= 1
                        }
                        let s = src.baseAddress! + offset, d = po.base + o * inner
                        for i in 0..<inner { d[i] = s[i * innerStride] }
                    }
                }
            }
        }
    }
}

/// Concat along one axis.
struct ConcatKernel: StepKernel {
    let axis: Int
    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor {
        let shape: [Int]
        do { shape = try Operator.concat(axis: axis).outputShape(inputs.map(\.shape), batch: batch) } catch { throw ExecutionError(error.message) }
        let outer = shape[..<axis].reduce(1, *)
        let outBlock = shape[axis...].reduce(1, *)
        return Tensor(shape: shape) { out in
            var offset = 0
            for part in inputs {
                let block = part.shape[axis...].reduce(1, *)
                part.storage.withUnsafeBufferPointer { src in
                    for o in 0..<outer {
                        (out.baseAddress! + o * outBlock + offset).update(from: src.baseAddress! + o * block, count: block)
                    }
                }
                offset += block
            }
        }
    }
}

/// Slice with steps (negative included), by a general strided copy.
struct SliceKernel: StepKernel {
    let attributes: SliceAttributes
    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor {
        let x = inputs[0]
        var shape = x.shape
        var starts = [Int](repeating: 0, count: shape.count), steps = [Int](repeating: 1, count: shape.count)
        for r in attributes.resolve(shape: x.shape) { shape[r.axis] = r.count; starts[r.axis] = r.start; steps[r.axis] = r.step }
        let strides = broadcastStrides(x.shape, rank: x.shape.count)
        let total = shape.reduce(1, *)
        return Tensor(shape: shape) { out in
            x.storage.withUnsafeBufferPointer { src in
                var index = [Int](repeating: 0, count: shape.count)
                for o in 0..<total {
                    var s = 0
                    for k in 0..<shape.count { s += (starts[k] + index[k] * steps[k]) * strides[k] }
                    out[o] = src[s]
                    var k = shape.count - 1
                    while k >= 0 { index[k] += 1; if index[k] < shape[k] { break }; index[k] = 0; k -= 1 }
                }
            }
        }
    }
}

/// Pad in constant, reflect or edge mode (negative pads crop, in constant mode).
struct PadKernel: StepKernel {
    let pads: [Int]
    let mode: PadMode
    let value: Float
    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor {
        let x = inputs[0]
        let mode = self.mode, value = self.value, pads = self.pads
        let rank = x.shape.count
        let shape = (0..<rank).map { x.shape[$0] + pads[$0] + pads[$0 + rank] }
        let strides = broadcastStrides(x.shape, rank: rank)
        let total = shape.reduce(1, *)
        if mode == .reflect, (0..<rank).contains(where: { (pads[$0] > 0 || pads[$0 + rank] > 0) && (pads[$0] >= x.shape[$0] || pads[$0 + rank] >= x.shape[$0]) }) {
            throw ExecutionError("reflect padding \(pads) is not smaller than the input \(x.shape)")
        }
        return Tensor(shape: shape) { out in
            x.storage.withUnsafeBufferPointer { src in
                var index = [Int](repeating: 0, count: rank)
                for o in 0..<total {
                    var s = 0
                    var inside = true
                    for k in 0..<rank {
                        guard let i = mode.sourceIndex(index[k] - pads[k], size: x.shape[k]) else { inside = false; break }
                        s += i * strides[k]
                    }
                    out[o] = inside ? src[s] : value
                    var k = rank - 1
                    while k >= 0 { index[k] += 1; if index[k] < shape[k] { break }; index[k] = 0; k -= 1 }
                }
            }
        }
    }
}
