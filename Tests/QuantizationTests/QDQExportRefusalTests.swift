import NetworkIR
import ONNXFormat
import Quantization
import TestSupport
import XCTest

/// What the export cannot write correctly is refused, naming the layer or tensor and the fix.
final class QDQExportRefusalTests: XCTestCase {
    func refusal(_ model: ONNXModel, _ graph: Graph, _ assignment: QuantizationAssignment, ranges: [ValueID: (Float, Float)] = [:]) -> String {
        do {
            _ = try QDQExport(model: model, graph: graph).exported(assignment, ranges: ranges)
            return "no error"
        } catch { return "\(error)" }
    }

    /// Before opset 13 DequantizeLinear has no axis: per-channel is refused, per-tensor written.
    func testPerChannelBeforeOpset13IsRefused() throws {
        var (model, _) = try QuantizationFixtures.model("models/tiny_resnet.onnx")
        model.opsetImports = [ONNXOpsetID(domain: "", version: 11)]
        let graph = try Importer.importGraph(model)
        let text = refusal(model, graph, QuantizationFixtures.assignment(graph, bits: { _ in 8 }))
        XCTAssertTrue(text.contains("need DequantizeLinear's 'axis' (opset 13); the model declares opset 11"), text)
        XCTAssertTrue(text.hasPrefix("node \(QuantizableLayer.all(in: graph)[0].name)"), text)
        let exported = try QDQExport(model: model, graph: graph).exported(QuantizationFixtures.assignment(graph, bits: { _ in 8 }, granularity: .tensor), ranges: [:])
        XCTAssertFalse(exported.graph.nodes.contains { $0.attribute("axis") != nil && $0.opType == "DequantizeLinear" })
        model.opsetImports = [ONNXOpsetID(domain: "", version: 9)]
        let old = try Importer.importGraph(model)
        XCTAssertTrue(refusal(model, old, QuantizationFixtures.assignment(old, bits: { _ in 8 }, granularity: .tensor)).contains("exist from opset 10"))
    }

    func testAlreadyQuantizedOrComputedWeightsAreRefused() throws {
        let (dq, dqGraph) = try QuantizationFixtures.model("qdq/dq_per_channel_int8.onnx")
        let text = refusal(dq, dqGraph, QuantizationFixtures.assignment(dqGraph, bits: { _ in 8 }))
        XCTAssertTrue(text.contains("weight 'w' is computed by node dq_w (DequantizeLinear), not stored"), text)
        XCTAssertTrue(text.hasPrefix("node conv (Conv)"), text)
        let (fill, fillGraph) = try QuantizationFixtures.model("import/constant_of_shape_matmul.onnx")
        XCTAssertFalse(QuantizableLayer.all(in: fillGraph).isEmpty)
        XCTAssertTrue(refusal(fill, fillGraph, QuantizationFixtures.assignment(fillGraph, bits: { _ in 8 })).contains("(ConstantOfShape), not stored"))
    }

    func testOnlyEightBitActivationsAndCalibratedRanges() throws {
        let (model, graph) = try QuantizationFixtures.model("models/tiny_resnet.onnx")
        XCTAssertTrue(refusal(model, graph, QuantizationFixtures.assignment(graph, bits: { _ in 8 }, activations: 4)).contains("activations at 4 bits"))
        XCTAssertTrue(refusal(model, graph, QuantizationFixtures.assignment(graph, bits: { _ in 8 }, activations: 8)).contains("has no calibrated range"))
        XCTAssertTrue(refusal(model, graph, QuantizationAssignment(weightBits: ["nope": 8])).contains("layer 'nope' is not a Conv, Gemm or MatMul"))
        XCTAssertTrue(refusal(model, graph, QuantizationFixtures.assignment(graph, bits: { _ in 17 })).contains("outside 2...16"))
    }
}
