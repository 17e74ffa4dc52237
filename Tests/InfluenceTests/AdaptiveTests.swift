import Foundation
import Influence
import NetworkIR
import TestSupport
import XCTest

final class AdaptiveTests: XCTestCase {
    /// Adaptive mode decides weak / not weak like exact mode for almost every item while
    /// measuring decided items on fewer inputs.
    func testAdaptiveDecisionsAgreeWithExactMode() throws {
        let graph = try ProfileFixtures.graph("models/tiny_mobilenet.onnx")
        let x = augmented(try ProfileFixtures.tensor("models/tiny_mobilenet.input.npy"))
        var options = ProfileOptions()
        options.batchSize = 4
        options.weakThreshold = 1e-3
        let exact = try ProfileFixtures.report(graph: graph, input: x, options: options)
        options.adaptive = true
        let adaptive = try ProfileFixtures.report(graph: graph, input: x, options: options)
        let e = try XCTUnwrap(exact["items"]?.arrayValue), a = try XCTUnwrap(adaptive["items"]?.arrayValue)
        XCTAssertEqual(e.count, a.count)
        let same = zip(e, a).filter { $0["weak"] == $1["weak"] }.count
        XCTAssertGreaterThanOrEqual(Double(same) / Double(e.count), 0.95, "\(same) of \(e.count) decisions agree")
        let early = a.filter { ($0["influence"]?["n"]?.intValue ?? 0) < x.shape[0] }.count
        XCTAssertGreaterThan(early, 0, "no item stopped early")
        XCTAssertTrue(a.allSatisfy { ($0["influence"]?["n"]?.intValue ?? 0) >= ProfileOptions.adaptiveMinimumInputs })
    }

    /// 16 inputs from the 4 photographs: each as is, mirrored left-right, upside down, and both.
    func augmented(_ x: Tensor) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        var out: [Float] = []
        for flip in 0..<4 {
            for b in 0..<n { for ch in 0..<c { for y in 0..<h { for xx in 0..<w {
                let sy = flip & 2 != 0 ? h - 1 - y : y, sx = flip & 1 != 0 ? w - 1 - xx : xx
                out.append(x.storage[((b * c + ch) * h + sy) * w + sx])
            } } } }
        }
        return Tensor(shape: [4 * n, c, h, w], storage: out)
    }

    func testHardExamplesAreTheSmallestMargins() {
        // Margins: input 0 → 3, input 1 → 0.5, input 2 → 1, input 3 → 0.5.
        let logits: [Float] = [4, 1, 0,  2, 1.5, 0,  0, 1, 2,  7, 6.5, 1]
        XCTAssertEqual(HardExamples.select(logits: logits, count: 4, k: 2), [1, 3])
        XCTAssertEqual(HardExamples.select(logits: logits, count: 4, k: 3), [1, 2, 3])
    }
}
