import Execution
import Foundation
import NetworkIR
import TestSupport
import XCTest

/// Whole models against ONNX Runtime's logits on real photographs (Fixtures/models, made by
/// Fixtures/scripts/make_models.py): max |difference| ≤ 1e-4 × max |logit|.
final class ModelParityTests: XCTestCase {
    func check(_ model: String, input: String, logits: String, reference: Bool = false, file: StaticString = #filePath, line: UInt = #line) throws {
        let graph = try ModelFixtures.graph(model)
        let plan = try ExecutionPlan(graph: graph, options: ExecutionOptions(threads: 2, useReferenceKernels: reference))
        let x = try ModelFixtures.tensor(input)
        let expected = try ModelFixtures.tensor(logits)
        let got = try plan.run(x)[0]
        XCTAssertEqual(got.shape, expected.shape, file: file, line: line)
        if let m = mismatch(got.storage, expected.storage, .relativeToPeak(1e-4)) {
            XCTFail("\(model): \(m)", file: file, line: line)
        }
        // The same classes as ONNX Runtime for every image.
        let classes = expected.shape.last!
        for n in 0..<expected.shape[0] {
            let e = expected.storage[n * classes ..< (n + 1) * classes], g = got.storage[n * classes ..< (n + 1) * classes]
            XCTAssertEqual(e.firstIndex(of: e.max()!)! - n * classes, g.firstIndex(of: g.max()!)! - n * classes, "\(model) image \(n)", file: file, line: line)
        }
    }

    func testResNet18BatchNormFolded() throws { try check("models/resnet18.onnx", input: "models/resnet18.input.npy", logits: "models/resnet18.logits.npy") }
    func testResNet18BatchNormKept() throws { try check("models/resnet18_bn.onnx", input: "models/resnet18_bn.input.npy", logits: "models/resnet18_bn.logits.npy") }
    func testMobileNetV2() throws { try check("models/mobilenet_v2.onnx", input: "models/mobilenet_v2.input.npy", logits: "models/mobilenet_v2.logits.npy") }
    func testMobileNetV3Small() throws { try check("models/mobilenet_v3_small.onnx", input: "models/mobilenet_v3_small.input.npy", logits: "models/mobilenet_v3_small.logits.npy") }
    func testSqueezeNet() throws { try check("models/squeezenet1_1.onnx", input: "models/squeezenet1_1.input.npy", logits: "models/squeezenet1_1.logits.npy") }
    func testEfficientNetLite0Demo() throws { try check("demo/efficientnet_lite0.onnx", input: "demo/images.input.npy", logits: "demo/efficientnet_lite0.logits.npy") }
    func testKerasExportNHWC() throws { try check("models/keras_nhwc_cnn.onnx", input: "models/keras_nhwc_cnn.input.npy", logits: "models/keras_nhwc_cnn.output.npy") }
    func testTF2ONNXStyleNHWC() throws { try check("models/keras_tf2onnx_style.onnx", input: "models/keras_tf2onnx_style.input.npy", logits: "models/keras_tf2onnx_style.output.npy") }
    func testTinyModelsWithReferenceKernels() throws {
        for name in ["tiny_resnet", "tiny_mobilenet", "tiny_concat"] {
            try check("models/\(name).onnx", input: "models/\(name).input.npy", logits: "models/\(name).logits.npy", reference: true)
        }
    }
    func testTinyModelsWithFastKernels() throws {
        for name in ["tiny_resnet", "tiny_mobilenet", "tiny_concat"] {
            try check("models/\(name).onnx", input: "models/\(name).input.npy", logits: "models/\(name).logits.npy")
        }
    }

    func testNHWCLayoutIsReadFromTheModel() throws {
        XCTAssertEqual(try ModelFixtures.graph("models/keras_tf2onnx_style.onnx").inputs[0].layout, .nhwc)
        XCTAssertEqual(try ModelFixtures.graph("models/keras_nhwc_cnn.onnx").inputs[0].layout, .nhwc)
        XCTAssertEqual(try ModelFixtures.graph("models/resnet18.onnx").inputs[0].layout, .nchw)
    }

    /// A symbolic batch runs at any size: batch 1 and batch 3 give the rows of batch 4.
    func testAnyBatchSizeGivesTheSameRows() throws {
        let graph = try ModelFixtures.graph("models/tiny_resnet.onnx")
        let plan = try ExecutionPlan(graph: graph, options: ExecutionOptions(threads: 2))
        let x = try ModelFixtures.tensor("models/tiny_resnet.input.npy")
        let all = try plan.run(x)[0]
        let per = x.count / x.shape[0], classes = all.shape[1]
        let one = try plan.run(Tensor(shape: [1] + x.shape.dropFirst(), storage: Array(x.storage[per ..< 2 * per])))[0]
        XCTAssertNil(mismatch(one.storage, Array(all.storage[classes ..< 2 * classes]), .close(absolute: 1e-5, relative: 1e-5)))
    }
}
