import NetworkIR

/// ONNX Gemm: Y = alpha·op(A)·op(B) + beta·C, C broadcast to (M, N).
struct GemmKernel: StepKernel {
    let alpha: Float, beta: Float, transA: Bool, transB: Bool

    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor {
        let a = inputs[0], b = inputs[1]
        let m = transA ? a.shape[1] : a.shape[0], k = transA ? a.shape[0] : a.shape[1]
        let n = transB ? b.shape[0] : b.shape[1]
        guard (transB ? b.shape[1] : b.shape[0]) == k else { throw ExecutionError("Gemm inner dimensions differ: \(a.shape) and \(b.shape)") }
        var y = Tensor(shape: [m, n]) { out in
            a.storage.withUnsafeBufferPointer { pa in
                b.storage.withUnsafeBufferPointer { pb in
                    ReferenceMatrixProduct.multiply(pa.baseAddress!, rowStrideA: transA ? 1 : k, colStrideA: transA ? m : 1,
                                                    pb.baseAddress!, rowStrideB: transB ? 1 : n, colStrideB: transB ? k : 1,
                                                    out.baseAddress!, m: m, n: n, k: k)
                }
            }
        }
        if alpha != 1 { for i in 0..<y.count { y.storage[i] *= alpha } }
        if inputs.count > 2 && beta != 0 {
            let c = inputs[2]
            let plan = BroadcastPlan(shape: [m, n], a: [m, n], b: c.shape)
            for outer in 0..<plan.outerCount {
                let (_, ob) = plan.offsets(outer)
                for i in 0..<plan.innerCount {
                    y.storage[outer * plan.innerCount + i] += beta * c.storage[ob + i * plan.innerStrideB]
                }
            }
        }
        return y
    }
}

/// Numpy matmul: batched over broadcast leading dimensions; 1-D operands promoted and squeezed.
struct MatMulKernel: StepKernel {
    func run(_ inputs: [Tensor], batch: Int, threads: Int) throws(ExecutionError) -> Tensor {
        let shape: [Int]
        do { shape = try Operator.matMul.outputShape([inputs[0].shape, inputs[1].shape], batch: batch) } catch { throw ExecutionError(error.message) }
        var a = inputs[0].shape, b = inputs[1].shape
        if a.count == 1 { a = [1] + a }
        if b.count == 1 { b = b + [1] }
        let (m, k, n) = (a[a.count - 2], a[a.count - 1], b[b.count - 1])
        let trailing = (inputs[0].shape.count == 1 ? 0 : 1) + (inputs[1].shape.count == 1 ? 0 : 1)
        let batchShape = Array(shape.dropLast(trailing))
        let plan = BroadcastPlan(shape: batchShape.isEmpty ? [1] : batchShape, a: Array(a.dropLast(2)), b: Array(b.dropLast(2)))
        let batches = max(batchShape.reduce(1, *), 1)
        return Tensor(shape: shape) { out in
            inputs[0].storage.withUnsafeBufferPointer { pa in
                inputs[1].storage.withUnsafeBufferPointer { pb in
                    for t in 0..<batches {
                        let outer = t / max(plan.innerCount, 1), inner = t % max(plan.innerCount, 1)
                        let (oa, ob) = plan.offsets(outer)
                        let ia = oa + inner * plan.innerStrideA, ib = ob + inner * plan.innerStrideB
                        ReferenceMatrixProduct.multiply(pa.baseAddress! + ia * m * k, rowStrideA: k, colStrideA: 1,
                                                        pb.baseAddress! + ib * k * n, rowStrideB: n, colStrideB: 1,
                                                        out.baseAddress! + t * m * n, m: m, n: n, k: k)
                    }
                }
            }
        }
    }
}
