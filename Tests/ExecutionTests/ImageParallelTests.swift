import Execution
import Foundation
import NetworkIR
import TestSupport
import XCTest

/// `run(_:)` with whole images per thread against the layer-by-layer run: the same bits, and
/// graphs that mix images along the batch axis never split.
final class ImageParallelTests: XCTestCase {
    func testWholeImagesPerThreadGiveTheLayerByLayerBits() throws {
        let models = ["tiny_resnet", "tiny_mobilenet", "tiny_concat", "mobilenet_v2", "keras_nhwc_cnn"]
        for name in models {
            let graph = try ModelFixtures.graph("models/\(name).onnx")
            let x = try ModelFixtures.tensor("models/\(name).input.npy")
            // Batches 5 and 7 (images repeated): odd counts, so the threads claim unevenly; 7 reaches 3 threads.
            let per = x.count / x.shape[0]
            let five = Tensor(shape: [x.shape[0] + 1] + x.shape.dropFirst(), storage: x.storage + x.storage[0 ..< per])
            let seven = Tensor(shape: [2 * x.shape[0] - 1] + x.shape.dropFirst(), storage: x.storage + x.storage[per...])
            for threads in [2, 3] {
                let split = try ExecutionPlan(graph: graph, options: ExecutionOptions(threads: threads))
                let layered = try ExecutionPlan(graph: graph, options: ExecutionOptions(threads: threads, imageParallel: false))
                XCTAssertTrue(split.batchSeparable, name)
                XCTAssertFalse(layered.batchSeparable, name)
                for input in [x, five, seven] where input.shape[0] >= 2 * threads {
                    let a = try split.run(input), b = try layered.run(input)
                    XCTAssertEqual(a.count, b.count, name)
                    for (p, q) in zip(a, b) {
                        XCTAssertEqual(p.shape, q.shape, "\(name) threads \(threads)")
                        XCTAssertEqual(p.storage.map(\.bitPattern), q.storage.map(\.bitPattern), "\(name) threads \(threads) batch \(input.shape[0])")
                    }
                }
            }
        }
    }

    /// Softmax over axis 0 normalises across images: it must run layer by layer.
    func testSoftmaxOverTheBatchIsNotSplit() throws {
        for axis in [0, 1] {
            let graph = Graph(values: [Value(name: "x"), Value(name: "y")],
                              nodes: [Node(name: "softmax", op: .softmax(axis: axis), inputs: [0], outputs: [1])],
                              constants: [:], inputs: [GraphInput(value: 0, sampleShape: [3], layout: .nchw)], outputs: [1], opset: 13)
            let plan = try ExecutionPlan(graph: graph, options: ExecutionOptions(threads: 2))
            XCTAssertEqual(plan.batchSeparable, axis == 1, "axis \(axis)")
            let x = Tensor(shape: [4, 3], storage: (0..<12).map { Float($0) * 0.25 })
            let y = try plan.run(x)[0]
            XCTAssertEqual(y.shape, [4, 3])
            for line in 0..<(axis == 0 ? 3 : 4) {
                let indices = axis == 0 ? (0..<4).map { $0 * 3 + line } : (0..<3).map { line * 3 + $0 }
                let sum = indices.reduce(Float(0)) { $0 + y.storage[$1] }
                XCTAssertEqual(sum, 1, accuracy: 1e-5, "axis \(axis) line \(line)")
            }
        }
    }
}
