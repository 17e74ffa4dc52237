import Linalg
import NetworkIR

/// Gemm and MatMul: dA = G·Bᵀ, dB = Aᵀ·G on the Linalg GEMM, transposes read through strides.
enum MatrixBackward {
    /// C[m×n] = op(A)·op(B) with A stored [m×k] (or [k×m] when `transA`), B [k×n] (or [n×k]).
    static func product(_ a: UnsafePointer<Float>, transA: Bool, _ b: UnsafePointer<Float>, transB: Bool,
                        m: Int, n: Int, k: Int, into c: UnsafeMutablePointer<Float>, accumulate: Bool = false,
                        threads: Int) throws(GradientError) {
        do {
            try GEMM.multiply(m: m, n: n, k: k, a: a, transposeA: transA, b: b, transposeB: transB, c: c,
                              accumulate: accumulate, threads: threads)
        } catch {
            throw GradientError("matrix product \(m)x\(k)·\(k)x\(n): \(error)")
        }
    }

    static func product(_ a: [Float], transA: Bool, _ b: [Float], transB: Bool, m: Int, n: Int, k: Int,
                        threads: Int) throws(GradientError) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        var failure: GradientError?
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    do throws(GradientError) {
                        try product(pa.baseAddress!, transA: transA, pb.baseAddress!, transB: transB, m: m, n: n, k: k,
                                    into: pc.baseAddress!, threads: threads)
                    } catch { failure = error }
                }
            }
        }
        if let failure { throw failure }
        return c
    }

    /// Y = α·op(A)·op(B) + β·C.
    static func gemm(a: Tensor, b: Tensor, c: Tensor?, alpha: Float, beta: Float, transA: Bool, transB: Bool,
                     outputGradient g: Tensor, threads: Int) throws(GradientError) -> (a: Tensor, b: Tensor, c: Tensor?) {
        let m = transA ? a.shape[1] : a.shape[0], k = transA ? a.shape[0] : a.shape[1]
        let n = transB ? b.shape[0] : b.shape[1]
        let scaledG = alpha == 1 ? g.storage : g.storage.map { $0 * alpha }
        // d op(A) = G·op(B)ᵀ [m×k]; dA is it or its transpose.
        let da: [Float] = transA
            ? try product(b.storage, transA: transB, scaledG, transB: true, m: k, n: m, k: n, threads: threads)
            : try product(scaledG, transA: false, b.storage, transB: !transB, m: m, n: k, k: n, threads: threads)
        // d op(B) = op(A)ᵀ·G [k×n]; dB is it or its transpose.
        let db: [Float] = transB
            ? try product(scaledG, transA: true, a.storage, transB: transA, m: n, n: k, k: m, threads: threads)
            : try product(a.storage, transA: !transA, scaledG, transB: false, m: k, n: n, k: m, threads: threads)
        var dc: Tensor? = nil
        if let c {
            let scaled = Tensor(shape: [m, n], storage: beta == 1 ? g.storage : g.storage.map { $0 * beta })
            dc = ElementwiseBackward.sum(scaled, toShape: c.shape)
        }
        return (Tensor(shape: a.shape, storage: da), Tensor(shape: b.shape, storage: db), dc)
    }

    /// Numpy matmul with broadcast leading dimensions and 1-D operands promoted.
    static func matMul(a: Tensor, b: Tensor, outputGradient g: Tensor, threads: Int) throws(GradientError) -> (a: Tensor, b: Tensor) {
        let pa = a.rank == 1 ? [1] + a.shape : a.shape
        let pb = b.rank == 1 ? b.shape + [1] : b.shape
        let (m, k, n) = (pa[pa.count - 2], pa[pa.count - 1], pb[pb.count - 1])
        let batchA = Array(pa.dropLast(2)), batchB = Array(pb.dropLast(2))
        let batchShape: [Int]
        do { batchShape = try broadcastShapes(batchA, batchB) } catch { throw GradientError(error.message) }
        let rank = batchShape.count
        let sa = broadcastStrides(batchA, rank: rank), sb = broadcastStrides(batchB, rank: rank)
        let batches = batchShape.reduce(1, *)
        var da = [Float](repeating: 0, count: a.count), db = [Float](repeating: 0, count: b.count)
        var index = [Int](repeating: 0, count: rank)
        for t in 0..<batches {
            var oa = 0, ob = 0
            for i in 0..<rank { oa += index[i] * sa[i]; ob += index[i] * sb[i] }
            let gt = Array(g.storage[(t * m * n)..<((t + 1) * m * n)])
            let at = Array(a.storage[(oa * m * k)..<((oa + 1) * m * k)])
            let bt = Array(b.storage[(ob * k * n)..<((ob + 1) * k * n)])
            let dat = try product(gt, transA: false, bt, transB: true, m: m, n: k, k: n, threads: threads)
            let dbt = try product(at, transA: true, gt, transB: false, m: k, n: n, k: m, threads: threads)
            for i in 0..<(m * k) { da[oa * m * k + i] += dat[i] }
            for i in 0..<(k * n) { db[ob * k * n + i] += dbt[i] }
            var d = rank - 1
            while d >= 0 { index[d] += 1; if index[d] < batchShape[d] { break }; index[d] = 0; d -= 1 }
        }
        return (Tensor(shape: a.shape, storage: da), Tensor(shape: b.shape, storage: db))
    }
}
