import Execution
import NetworkIR
import ONNXFormat
import Quantization
import TestSupport
import XCTest

/// The QDQ file `QDQExport` writes, read back by WeakSpot's importer, is exactly the graph
/// `QuantizedGraph.build` makes: same logits bit for bit on the fixture inputs, for per-channel
/// and per-tensor scales, mixed bits (int8 storage below 8 bits, int32 above 8 at opset 17), with
/// and without uint8 activations (a graph output among them).
final class QDQExportTests: XCTestCase {
    func exportAndCompare(_ name: String, _ assignment: QuantizationAssignment, file: StaticString = #filePath, line: UInt = #line) throws -> ONNXModel {
        let (model, graph) = try QuantizationFixtures.model("models/\(name).onnx")
        let input = try QuantizationFixtures.tensor("models/\(name).input.npy")
        let values = try QuantizedGraph.activationValues(graph, assignment: assignment)
        let ranges = try QuantizedGraph.calibrate(graph, values: values, method: .minmax, batches: [input], threads: 2)
        let built = try QuantizedGraph.build(graph, assignment: assignment, ranges: ranges)
        let exported = try QuantizationFixtures.roundTrip(try QDQExport(model: model, graph: graph).exported(assignment, ranges: ranges))
        let reimported = try Importer.importGraph(exported)
        let want = try QuantizationFixtures.outputs(built, input)
        let got = try QuantizationFixtures.outputs(reimported, input)
        XCTAssertNil(mismatch(got, want, .exact), "\(name): exported vs fake-quantized graph", file: file, line: line)
        // Quantization changed something, so equality is not that of two float models.
        XCTAssertNotNil(mismatch(got, try QuantizationFixtures.outputs(graph, input), .exact), "\(name): quantized equals float", file: file, line: line)
        XCTAssertEqual(exported.graph.outputs.map(\.name), model.graph.outputs.map(\.name), file: file, line: line)
        XCTAssertEqual(exported.graph.nodes.filter { $0.opType == "DequantizeLinear" }.count,
                       Set(QuantizableLayer.all(in: graph).filter { assignment.weightBits[$0.name] != nil }.map(\.weight)).count + values.count,
                       file: file, line: line)
        XCTAssertEqual(exported.graph.nodes.filter { $0.opType == "QuantizeLinear" }.count, values.count, file: file, line: line)
        return exported
    }

    func testEightBitWeightsAndActivationsReadBackBitExact() throws {
        for name in ["tiny_mobilenet", "tiny_resnet", "tiny_concat"] {
            let graph = try QuantizationFixtures.model("models/\(name).onnx").1
            let exported = try exportAndCompare(name, QuantizationFixtures.assignment(graph, bits: { _ in 8 }, activations: 8))
            XCTAssertTrue(exported.graph.initializers.filter { $0.name.hasSuffix("_quantized") }.allSatisfy { $0.dataType == .int8 }, name)
            // The logits are the tail end of the last Gemm: its pair keeps the output's name.
            let last = try XCTUnwrap(exported.graph.nodes.last { $0.outputs == ["logits"] })
            XCTAssertEqual(last.opType, "DequantizeLinear", name)
        }
    }

    func testMixedBitsPerTensorWithoutActivations() throws {
        let graph = try QuantizationFixtures.model("models/tiny_mobilenet.onnx").1
        let cycle = [8, 4, 6, 3, 12]
        let exported = try exportAndCompare("tiny_mobilenet", QuantizationFixtures.assignment(graph, bits: { cycle[$0 % cycle.count] }, granularity: .tensor))
        let layers = QuantizableLayer.all(in: graph)
        for (i, layer) in layers.enumerated() {
            let name = graph.values[layer.weight].name
            let q = try XCTUnwrap(exported.graph.initializers.first { $0.name == name + "_quantized" }, name)
            let values = try q.int64s()
            let bits = cycle[i % cycle.count]
            XCTAssertEqual(q.dataType, bits <= 8 ? .int8 : .int32, name)
            let largest = Int64((1 << (bits - 1)) - 1)
            XCTAssertTrue(values.allSatisfy { abs($0) <= largest }, "\(name): values beyond ±\(largest)")
            XCTAssertTrue(values.contains { abs($0) == largest }, "\(name): no value reaches ±\(largest) (the scale is max|w| / qmax)")
            let scale = try XCTUnwrap(exported.graph.initializers.first { $0.name == name + "_scale" })
            XCTAssertEqual(scale.dims, [], "per tensor: one scalar scale")
            XCTAssertEqual(exported.graph.initializers.contains { $0.name == name + "_zero_point" }, bits <= 8, "int32 takes no zero point")
            XCTAssertFalse(exported.graph.initializers.contains { $0.name == name }, "\(name): the float weight is still stored")
        }
    }

    func testPerChannelScalesFollowTheOutputAxis() throws {
        let graph = try QuantizationFixtures.model("models/tiny_resnet.onnx").1
        let exported = try exportAndCompare("tiny_resnet", QuantizationFixtures.assignment(graph, bits: { $0 % 2 == 0 ? 8 : 5 }))
        for layer in QuantizableLayer.all(in: graph) {
            let name = graph.values[layer.weight].name
            let dq = try XCTUnwrap(exported.graph.nodes.first { $0.opType == "DequantizeLinear" && $0.outputs == [name] })
            XCTAssertEqual(dq.attribute("axis")?.intValue, Int64(layer.axis), name)
            let scale = try XCTUnwrap(exported.graph.initializers.first { $0.name == dq.inputs[1] })
            XCTAssertEqual(scale.dims, [graph.constants[layer.weight]!.shape[layer.axis]], name)
            let zeroPoint = try XCTUnwrap(exported.graph.initializers.first { $0.name == dq.inputs[2] })
            XCTAssertEqual(zeroPoint.dataType, .int8)
            XCTAssertEqual(try zeroPoint.int64s(), [Int64](repeating: 0, count: scale.dims[0]))
        }
    }

    /// Constant-node weights (paddle2onnx), initializers shadowed by graph inputs (IR 3, its
    /// opset 8 raised to 13 here, as the export refuses opsets without QuantizeLinear) and float16
    /// weights behind a Cast all become a DequantizeLinear of the stored integers.
    func testWeightsStoredInOtherFormsAreReplaced() throws {
        let input = try QuantizationFixtures.tensor("import/cnn.input.npy")
        for name in ["paddle_constant_cnn", "ir3_shadowed_cnn", "float16_weights"] {
            var model = try ONNXModel.load(path: FixturePaths.path("import/\(name).onnx"))
            if name == "ir3_shadowed_cnn" {
                XCTAssertEqual(model.graph.inputs.count, model.graph.initializers.count + 1, "the fixture shadows every initializer")
                model.opsetImports = [ONNXOpsetID(domain: "", version: 13)]
            }
            let graph = try Importer.importGraph(model)
            let assignment = QuantizationFixtures.assignment(graph, bits: { _ in 6 }, activations: 8)
            let values = try QuantizedGraph.activationValues(graph, assignment: assignment)
            let ranges = try QuantizedGraph.calibrate(graph, values: values, method: .minmax, batches: [input], threads: 2)
            let built = try QuantizedGraph.build(graph, assignment: assignment, ranges: ranges)
            let exported = try QuantizationFixtures.roundTrip(try QDQExport(model: model, graph: graph).exported(assignment, ranges: ranges))
            let reimported = try Importer.importGraph(exported)
            XCTAssertNil(mismatch(try QuantizationFixtures.outputs(reimported, input), try QuantizationFixtures.outputs(built, input), .exact), name)
            XCTAssertEqual(reimported.inputs.count, 1, "\(name): a replaced weight left behind as a graph input")
            for layer in QuantizableLayer.all(in: graph) {
                let weight = graph.values[layer.weight].name
                XCTAssertFalse(exported.graph.nodes.contains { $0.opType == "Constant" && $0.outputs == [weight] }, "\(name): \(weight)")
                XCTAssertFalse(exported.graph.initializers.contains { $0.name == weight }, "\(name): \(weight)")
            }
        }
    }

    /// One initializer read by two convolutions: one DequantizeLinear, read by both.
    func testSharedWeightIsQuantizedOnce() throws {
        let w: [Float] = (0..<108).map { (i: Int) -> Float in Float((i * 37) % 23) / 10 - 1.1 }
        let nodes = [
            ONNXNode(name: "a", opType: "Conv", inputs: ["x", "w"], outputs: ["ya"], attributes: [ONNXAttribute(name: "pads", value: .ints([1, 1, 1, 1]))]),
            ONNXNode(name: "b", opType: "Conv", inputs: ["x", "w"], outputs: ["yb"], attributes: [ONNXAttribute(name: "pads", value: .ints([1, 1, 1, 1]))]),
            ONNXNode(name: "sum", opType: "Add", inputs: ["ya", "yb"], outputs: ["y"]),
        ]
        let graphProto = ONNXGraph(name: "tied", nodes: nodes, initializers: [ONNXTensor(name: "w", floats: w, dims: [4, 3, 3, 3])],
                                   inputs: [ONNXValueInfo(name: "x", elementType: .float, shape: [.symbolic("N"), .value(3), .value(5), .value(5)])],
                                   outputs: [ONNXValueInfo(name: "y", elementType: .float)])
        let model = ONNXModel(graph: graphProto)
        let graph = try Importer.importGraph(model)
        XCTAssertEqual(Set(QuantizableLayer.all(in: graph).map(\.weight)).count, 1)
        let assignment = QuantizationAssignment(weightBits: ["a": 4, "b": 4])
        let exported = try QuantizationFixtures.roundTrip(try QDQExport(model: model, graph: graph).exported(assignment, ranges: [:]))
        XCTAssertEqual(exported.graph.nodes.filter { $0.opType == "DequantizeLinear" }.count, 1)
        let pixels: [Float] = (0..<150).map { (i: Int) -> Float in Float((i * 13) % 17) / 8 - 1 }
        let input = Tensor(shape: [2, 3, 5, 5], storage: pixels)
        let built = try QuantizedGraph.build(graph, assignment: assignment, ranges: [:])
        XCTAssertNil(mismatch(try QuantizationFixtures.outputs(try Importer.importGraph(exported), input),
                              try QuantizationFixtures.outputs(built, input), .exact))
        XCTAssertThrowsError(try QDQExport(model: model, graph: graph).exported(QuantizationAssignment(weightBits: ["a": 4, "b": 8]), ranges: [:])) {
            XCTAssertTrue("\($0)".contains("shares its weight"), "\($0)")
        }
    }
}
