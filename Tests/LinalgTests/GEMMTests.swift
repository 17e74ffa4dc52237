import Linalg
import XCTest

final class GEMMTests: XCTestCase {
    /// Runs one product through the public API and compares it with the naive reference.
    private func check(isa: KernelISA, m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false,
                       accumulate: Bool = false, bias: String = "none", residual: Bool = false,
                       activation: Activation = .none, threads: Int = 1, file: StaticString = #filePath, line: UInt = #line) throws {
        var random = SeededValues(seed: UInt64(m * 1_000_003 + n * 1009 + k))
        let a = random.array(m * k), b = random.array(k * n)
        let initial = random.array(m * n)
        let rowBias = random.array(m), columnBias = random.array(n)
        let residualValues = random.array(m * n)
        var c = accumulate ? initial : [Float](repeating: .nan, count: m * n)
        try a.withUnsafeBufferPointer { ap in
            try b.withUnsafeBufferPointer { bp in
                try rowBias.withUnsafeBufferPointer { rb in
                    try columnBias.withUnsafeBufferPointer { cb in
                        try residualValues.withUnsafeBufferPointer { rp in
                            let biasValue: Bias = bias == "row" ? .perRow(rb.baseAddress!) : bias == "column" ? .perColumn(cb.baseAddress!) : .none
                            let epilogue = Epilogue(bias: biasValue, residual: residual ? rp.baseAddress : nil, activation: activation)
                            try c.withUnsafeMutableBufferPointer { cp in
                                try GEMM.multiply(m: m, n: n, k: k, a: ap.baseAddress!, transposeA: transposeA,
                                                  b: bp.baseAddress!, transposeB: transposeB, c: cp.baseAddress!,
                                                  accumulate: accumulate, epilogue: epilogue, threads: threads, isa: isa)
                            }
                        }
                    }
                }
            }
        }
        let reference = referenceGEMM(m: m, n: n, k: k, a: a, transposeA: transposeA, b: b, transposeB: transposeB,
                                      initialC: accumulate ? initial : nil, rowBias: bias == "row" ? rowBias : nil,
                                      columnBias: bias == "column" ? columnBias : nil,
                                      residual: residual ? residualValues : nil, activation: activation)
        if let message = contractMismatch(c, reference) {
            XCTFail("\(isa) m \(m) n \(n) k \(k) tA \(transposeA) tB \(transposeB): \(message)", file: file, line: line)
        }
    }

    func testSizesAroundTheTileForEveryVariant() throws {
        for isa in KernelISA.available {
            let (mr, nr) = isa.tile
            for m in [1, mr - 1, mr, mr + 1, 2 * mr + 3] where m > 0 {
                for n in [1, nr - 1, nr, nr + 1, 3 * nr + 5] where n > 0 {
                    for k in [1, 7, 300] {
                        try check(isa: isa, m: m, n: n, k: k)
                    }
                }
            }
        }
    }

    func testLargeSizesCrossEveryCacheBlock() throws {
        for isa in KernelISA.available {
            try check(isa: isa, m: 181, n: 203, k: 600)
            try check(isa: isa, m: 19, n: 2100, k: 9)
            try check(isa: isa, m: 400, n: 5, k: 33)
        }
    }

    func testTransposedOperands() throws {
        for isa in KernelISA.available {
            for (ta, tb) in [(false, true), (true, false), (true, true)] {
                try check(isa: isa, m: 23, n: 45, k: 31, transposeA: ta, transposeB: tb)
                try check(isa: isa, m: 3, n: 70, k: 260, transposeA: ta, transposeB: tb)
            }
        }
    }

    /// Operands read along their contiguous axis as depth (A not transposed, B transposed, as in a
    /// convolution's dW = dY·colᵀ) are packed by 8×8 transposes: sizes around the tile and the
    /// 8-wide groups, depths with and without a remainder of 8, and blocks past MC, KC and NC.
    func testTransposingPackAroundTheTileAndCacheBlocks() throws {
        for isa in KernelISA.available {
            let (mr, nr) = isa.tile
            for m in [1, 7, mr, mr + 1, 2 * mr + 3, 8 + mr] {
                for n in [5, 8, nr - 1, nr, nr + 9, 3 * nr + 5] where n > 0 {
                    for k in [8, 13, 64, 271] {
                        try check(isa: isa, m: m, n: n, k: k, transposeB: true)
                    }
                }
            }
            try check(isa: isa, m: 250, n: 1100, k: 530, transposeB: true)
            try check(isa: isa, m: 250, n: 1100, k: 530, accumulate: true)
            try check(isa: isa, m: 131, n: 40, k: 777, transposeA: true, transposeB: true)
        }
    }

    func testZeroSizes() throws {
        for isa in KernelISA.available {
            try check(isa: isa, m: 0, n: 5, k: 3)
            try check(isa: isa, m: 5, n: 0, k: 3)
            // k = 0: C is the epilogue of zero.
            try check(isa: isa, m: 5, n: 6, k: 0, bias: "row", residual: true, activation: .relu)
            try check(isa: isa, m: 5, n: 40, k: 0, accumulate: true)
        }
    }

    func testEpilogues() throws {
        let activations: [Activation] = [.none, .relu, .clip(min: -0.5, max: 0.75)]
        for isa in KernelISA.available {
            for bias in ["none", "row", "column"] {
                for residual in [false, true] {
                    for activation in activations {
                        try check(isa: isa, m: 17, n: 37, k: 13, bias: bias, residual: residual, activation: activation)
                        try check(isa: isa, m: 30, n: 64, k: 270, accumulate: true, bias: bias, residual: residual,
                                  activation: activation)
                    }
                }
            }
        }
    }

    func testPackedOperandsMatchOnTheFlyPackingExactly() throws {
        for isa in KernelISA.available {
            let m = 37, n = 75, k = 290
            var random = SeededValues(seed: 7)
            let a = random.array(m * k), b = random.array(k * n)
            var plain = [Float](repeating: 0, count: m * n)
            var left = plain, right = plain
            try a.withUnsafeBufferPointer { ap in
                try b.withUnsafeBufferPointer { bp in
                    try GEMM.multiply(m: m, n: n, k: k, a: ap.baseAddress!, b: bp.baseAddress!, c: &plain, isa: isa)
                    let packedA = try PackedMatrix(role: .left, rows: m, columns: k, source: ap, rowStride: k, columnStride: 1, isa: isa)
                    let packedB = try PackedMatrix(role: .right, rows: k, columns: n, source: bp, rowStride: n, columnStride: 1, isa: isa)
                    try GEMM.multiply(packed: packedA, n: n, b: bp.baseAddress!, c: &left)
                    try GEMM.multiply(m: m, a: ap.baseAddress!, packed: packedB, c: &right)
                }
            }
            XCTAssertEqual(left, plain, "\(isa) packed A")
            XCTAssertEqual(right, plain, "\(isa) packed B")
        }
    }

    func testThreadCountDoesNotChangeAnyBit() throws {
        for isa in KernelISA.available {
            for (m, n, k) in [(64, 700, 300), (300, 20, 280), (5, 5, 5), (200, 33, 1000)] {
                var random = SeededValues(seed: UInt64(m + n + k))
                let a = random.array(m * k), b = random.array(k * n), bias = random.array(n)
                var results: [[Float]] = []
                for threads in [1, 2, 3, 64] {
                    var c = [Float](repeating: 0, count: m * n)
                    try bias.withUnsafeBufferPointer { bp in
                        try GEMM.multiply(m: m, n: n, k: k, a: a, b: b, c: &c,
                                          epilogue: Epilogue(bias: .perColumn(bp.baseAddress!), activation: .relu),
                                          threads: threads, isa: isa)
                    }
                    results.append(c)
                }
                XCTAssertEqual(results[0], results[1], "\(isa) \(m)x\(n)x\(k) 1 vs 2 threads")
                XCTAssertEqual(results[0], results[2], "\(isa) \(m)x\(n)x\(k) 1 vs 3 threads")
                XCTAssertEqual(results[0], results[3], "\(isa) \(m)x\(n)x\(k) 1 vs 64 threads")
            }
        }
    }

    func testNegativeSizesThrow() {
        var c: [Float] = [0]
        let a: [Float] = [1], b: [Float] = [1]
        XCTAssertThrowsError(try GEMM.multiply(m: -1, n: 1, k: 1, a: a, b: b, c: &c))
        XCTAssertThrowsError(try GEMM.multiply(m: Int.max, n: 2, k: Int.max, a: a, b: b, c: &c))
    }

    func testVariantSelection() {
        XCTAssertTrue(KernelISA.available.contains(.generic))
        XCTAssertTrue(KernelISA.available.contains(KernelISA.selected))
    }
}
