import NetworkIR

/// Row-major matrix products by the textbook triple loop: the reference for Gemm and MatMul.
enum ReferenceMatrixProduct {
    /// C[m×n] = Σ_k A[m×k]·B[k×n], with A and B read through strides so transposes cost nothing.
    static func multiply(_ a: UnsafePointer<Float>, rowStrideA: Int, colStrideA: Int,
                         _ b: UnsafePointer<Float>, rowStrideB: Int, colStrideB: Int,
                         _ c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int) {
        for i in 0..<m {
            let row = c + i * n
            for j in 0..<n { row[j] = 0 }
            for p in 0..<k {
                let av = a[i * rowStrideA + p * colStrideA]
                let brow = b + p * rowStrideB
                if colStrideB == 1 {
                    for j in 0..<n { row[j] += av * brow[j] }
                } else {
                    for j in 0..<n { row[j] += av * brow[j * colStrideB] }
                }
            }
        }
    }
}
