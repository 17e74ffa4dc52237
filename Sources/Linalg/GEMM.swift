import CKernels

/// Single-precision matrix products C = op(A)·op(B) with a fused epilogue.
///
/// All matrices are dense row-major: A is [m×k] (stored [k×m] when `transposeA`), B is [k×n]
/// (stored [n×k] when `transposeB`), C is [m×n]. With `accumulate`, C's previous contents are
/// added before the epilogue. Sizes of zero are allowed (k = 0 gives the epilogue of zero).
/// Each element of C is reduced by one thread in a fixed order, so results do not depend on
/// `threads`. Pointers must address at least the stated number of elements.
public enum GEMM {
    /// - Throws: `LinalgError` when a size is negative or a size product overflows.
    public static func multiply(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, transposeA: Bool = false,
        b: UnsafePointer<Float>, transposeB: Bool = false,
        c: UnsafeMutablePointer<Float>, accumulate: Bool = false,
        epilogue: Epilogue = Epilogue(), threads: Int = 1, isa: KernelISA = .selected
    ) throws {
        try validate(m: m, n: n, k: k)
        let left = strided(a, rows: m, columns: k, transposed: transposeA)
        let right = strided(b, rows: k, columns: n, transposed: transposeB)
        run(m: m, n: n, k: k, a: left, b: right, c: c, accumulate: accumulate, epilogue: epilogue,
            threads: threads, isa: isa.effective)
    }

    /// C[m×n] = A·op(B) with A prepacked (`role == .left`, A is [m×k] = [a.rows × a.columns]).
    public static func multiply(
        packed a: PackedMatrix, n: Int,
        b: UnsafePointer<Float>, transposeB: Bool = false,
        c: UnsafeMutablePointer<Float>, accumulate: Bool = false,
        epilogue: Epilogue = Epilogue(), threads: Int = 1
    ) throws {
        guard a.role == .left else { throw LinalgError("gemm: expected a left (A) packed matrix, got a right one") }
        try validate(m: a.rows, n: n, k: a.columns)
        let right = strided(b, rows: a.columns, columns: n, transposed: transposeB)
        run(m: a.rows, n: n, k: a.columns, a: a.operand, b: right, c: c, accumulate: accumulate,
            epilogue: epilogue, threads: threads, isa: a.isa)
    }

    /// C[m×n] = op(A)·B with B prepacked (`role == .right`, B is [k×n] = [b.rows × b.columns]).
    public static func multiply(
        m: Int, a: UnsafePointer<Float>, transposeA: Bool = false,
        packed b: PackedMatrix,
        c: UnsafeMutablePointer<Float>, accumulate: Bool = false,
        epilogue: Epilogue = Epilogue(), threads: Int = 1
    ) throws {
        guard b.role == .right else { throw LinalgError("gemm: expected a right (B) packed matrix, got a left one") }
        try validate(m: m, n: b.columns, k: b.rows)
        let left = strided(a, rows: m, columns: b.rows, transposed: transposeA)
        run(m: m, n: b.columns, k: b.rows, a: left, b: b.operand, c: c, accumulate: accumulate,
            epilogue: epilogue, threads: threads, isa: b.isa)
    }

    static func validate(m: Int, n: Int, k: Int) throws {
        guard m >= 0, n >= 0, k >= 0 else { throw LinalgError("gemm: expected non-negative m, n, k, got \(m), \(n), \(k)") }
        _ = try Checked.product(m, k, what: "gemm a")
        _ = try Checked.product(k, n, what: "gemm b")
        _ = try Checked.product(m, n, what: "gemm c")
    }

    static func strided(_ p: UnsafePointer<Float>, rows: Int, columns: Int, transposed: Bool) -> ck_operand {
        var o = ck_operand()
        o.kind = CK_OPERAND_STRIDED
        o.data = p
        if transposed { o.rs = 1; o.cs = rows } else { o.rs = columns; o.cs = 1 }
        return o
    }

    static func run(m: Int, n: Int, k: Int, a: ck_operand, b: ck_operand, c: UnsafeMutablePointer<Float>,
                    accumulate: Bool, epilogue: Epilogue, threads: Int, isa: KernelISA) {
        var call = ck_gemm_call()
        call.m = Int64(m); call.n = Int64(n); call.k = Int64(k)
        call.a = a; call.b = b
        call.c = c; call.rsc = n; call.csc = 1
        call.accumulate = accumulate ? 1 : 0
        call.epilogue = epilogue.cValue
        GEMMScheduler.run(jobs: 1, m: m, n: n, isa: isa, threads: threads) { _ in call }
    }
}
