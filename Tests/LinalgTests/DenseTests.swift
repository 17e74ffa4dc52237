import Linalg
import XCTest

final class DenseTests: XCTestCase {
    func testBothWeightLayoutsAgainstNaiveProduct() throws {
        for isa in KernelISA.available {
            for (batch, k, out) in [(1, 37, 10), (5, 64, 33), (3, 300, 1), (17, 8, 70)] {
                var random = SeededValues(seed: UInt64(batch * 100 + k + out))
                let w = random.array(out * k), bias = random.array(out), x = random.array(batch * k)
                let residual = random.array(batch * out)
                // Wᵀ as [K×Out] for the MatMul layout.
                var transposed = [Float](repeating: 0, count: k * out)
                for o in 0..<out { for p in 0..<k { transposed[p * out + o] = w[o * k + p] } }
                let reference = referenceGEMM(m: batch, n: out, k: k, a: x, transposeA: false, b: w, transposeB: true,
                                              initialC: nil, rowBias: nil, columnBias: bias, residual: residual,
                                              activation: .clip(min: -1, max: 1))
                let layers = [try Dense(weights: w, layout: .outputByInput, inputFeatures: k, outputFeatures: out, bias: bias, isa: isa),
                              try Dense(weights: transposed, layout: .inputByOutput, inputFeatures: k, outputFeatures: out, bias: bias, isa: isa)]
                for (index, layer) in layers.enumerated() {
                    var y = [Float](repeating: .nan, count: batch * out)
                    try layer.run(input: x, batch: batch, output: &y, residual: residual, activation: .clip(min: -1, max: 1), threads: 2)
                    if let message = contractMismatch(y, reference) { XCTFail("\(isa) layout \(index) \(batch)x\(k)x\(out): \(message)") }
                }
            }
        }
    }

    func testInvalidWeightsThrow() {
        XCTAssertThrowsError(try Dense(weights: [1, 2, 3], layout: .outputByInput, inputFeatures: 2, outputFeatures: 2, bias: nil))
        XCTAssertThrowsError(try Dense(weights: [1, 2, 3, 4], layout: .outputByInput, inputFeatures: 2, outputFeatures: 2, bias: [1]))
        XCTAssertThrowsError(try Dense(weights: [], layout: .inputByOutput, inputFeatures: 0, outputFeatures: 2, bias: nil))
        XCTAssertThrowsError(try Dense(weights: [], layout: .inputByOutput, inputFeatures: Int.max, outputFeatures: 2, bias: nil))
    }
}
