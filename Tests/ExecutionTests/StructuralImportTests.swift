import Execution
import Foundation
import NetworkIR
import ONNXFormat
import TestSupport
import XCTest

/// The importer's refusals and legacy forms for the structural operators, on one-node models
/// built here (the accepted forms are checked against ONNX Runtime in OperatorParityTests).
final class StructuralImportTests: XCTestCase {
    func attribute(_ name: String, _ value: ONNXAttribute.Value) -> ONNXAttribute { ONNXAttribute(name: name, value: value) }

    func model(_ nodes: [ONNXNode], opset: Int64, input: [Int] = [1, 3, 8, 8], initializers: [ONNXTensor] = []) -> ONNXModel {
        ONNXModel(opsetImports: [ONNXOpsetID(domain: "", version: opset)], graph: ONNXGraph(
            name: "g", nodes: nodes, initializers: initializers,
            inputs: [ONNXValueInfo(name: "x", elementType: .float, shape: [.symbolic("N")] + input.dropFirst().map { .value($0) })],
            outputs: [ONNXValueInfo(name: "y", elementType: .float)]))
    }

    /// The importer's message for `m`, failing the test when it imports.
    func refusal(_ m: ONNXModel, options: ImportOptions = .init(), file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try Importer.importGraph(m, options: options)
            XCTFail("imported, expected a refusal", file: file, line: line)
            return ""
        } catch {
            return "\(error)"
        }
    }

    func resize(_ attributes: [ONNXAttribute], scales: [Float] = [1, 1, 2, 2], opset: Int64 = 13) -> ONNXModel {
        model([ONNXNode(name: "r", opType: "Resize", inputs: ["x", "", "s"], outputs: ["y"], attributes: attributes)], opset: opset,
              initializers: [ONNXTensor(name: "s", floats: scales, dims: [4])])
    }

    func testResizeRefusesWhatItCannotComputeExactly() {
        XCTAssert(refusal(resize([attribute("mode", .string(Array("cubic".utf8)))])).contains("mode 'cubic' is not supported"))
        XCTAssert(refusal(resize([attribute("coordinate_transformation_mode", .string(Array("tf_crop_and_resize".utf8)))]))
            .contains("'tf_crop_and_resize' is not supported"))
        XCTAssert(refusal(resize([attribute("antialias", .int(1))], opset: 18)).contains("antialias"))
        XCTAssert(refusal(resize([], scales: [1, 2, 1, 1])).contains("only H and W can be resized"))
        XCTAssert(refusal(resize([], scales: [1, 1, 0, 2])).contains("must be positive"))
        let upsample = model([ONNXNode(name: "u", opType: "Upsample", inputs: ["x"], outputs: ["y"])], opset: 7)
        XCTAssert(refusal(upsample).contains("Upsample needs the 'scales' attribute"))
    }

    /// A Resize to ~1e11 pixels and a Tile by 1e6 are refused from their shapes, naming the option.
    func testHugeOutputsAreRefusedBeforeAllocation() {
        XCTAssert(refusal(resize([], scales: [1, 1, 100_000, 100_000])).contains("--max-tensor-elements"))
        let tile = { (repeats: [Int64]) in
            self.model([ONNXNode(name: "t", opType: "Tile", inputs: ["x", "r"], outputs: ["y"])], opset: 13,
                       initializers: [ONNXTensor(name: "r", int64s: repeats, dims: [4])])
        }
        XCTAssert(refusal(tile([1, 1, 1_000_000, 1]), options: ImportOptions(maxTensorElements: 1 << 24)).contains("raise with --max-tensor-elements"))
        XCTAssert(refusal(tile([1, 1, 1_000_000, 1_000_000])).contains("elements"))
        XCTAssert(refusal(tile([1, 1, -1, 1])).contains("positive count"))
        XCTAssertNoThrow(try Importer.importGraph(tile([1, 1, 2, 3])))
    }

    func batchNorm(opset: Int64, _ attributes: [ONNXAttribute]) -> ONNXModel {
        let p = { (name: String, v: [Float]) in ONNXTensor(name: name, floats: v, dims: [3]) }
        return model([ONNXNode(name: "bn", opType: "BatchNormalization", inputs: ["x", "s", "b", "m", "v"], outputs: ["y"], attributes: attributes)],
                     opset: opset, initializers: [p("s", [1, 2, 0.5]), p("b", [0, 1, -1]), p("m", [0.5, 0, 1]), p("v", [1, 4, 0.25])])
    }

    /// Opset 6's `is_test` and `consumed_inputs` change nothing at inference; spatial=0 is refused.
    func testBatchNormalizationLegacyAttributes() throws {
        let legacy = try Importer.importGraph(batchNorm(opset: 6, [attribute("is_test", .int(1)), attribute("consumed_inputs", .ints([0, 0, 0, 1, 1])),
                                                                 attribute("spatial", .int(1))]))
        let current = try Importer.importGraph(batchNorm(opset: 9, []))
        let x = Tensor(shape: [1, 3, 8, 8], storage: (0..<192).map { Float($0 % 17) / 8 - 1 })
        let a = try ExecutionPlan(graph: legacy).run(x)[0], b = try ExecutionPlan(graph: current).run(x)[0]
        XCTAssertEqual(a.storage, b.storage)
        XCTAssertNotEqual(a.storage, x.storage)
        XCTAssert(refusal(batchNorm(opset: 7, [attribute("spatial", .int(0))])).contains("spatial=0"))
    }

    func testSplitRefusesSizesThatDoNotFit() {
        let split = { (attributes: [ONNXAttribute], outputs: [String]) in
            self.model([ONNXNode(name: "s", opType: "Split", inputs: ["x"], outputs: outputs, attributes: attributes)], opset: 11)
        }
        XCTAssert(refusal(split([attribute("axis", .int(1))], ["y", "z"])).contains("equal parts is not exact"))
        XCTAssert(refusal(split([attribute("axis", .int(1)), attribute("split", .ints([1, 1]))], ["y", "z"])).contains("do not divide"))
        XCTAssert(refusal(split([attribute("axis", .int(0))], ["y", "z"])).contains("batch axis"))
    }

    /// ConvTranspose MACs: every input pixel times Cout/group times the kernel taps.
    func testConvTransposeCost() throws {
        let graph = try ModelFixtures.graph("ops/st_convtranspose_stride2_outpad/model.onnx")
        let layer = try XCTUnwrap(try graph.cost(batch: 1).layers.first { $0.op == "ConvTranspose" })
        XCTAssertEqual(layer.macs, 1 * 4 * 4 * 5 * 2 * 3 * 3)
        XCTAssertEqual(layer.params, 4 * 2 * 3 * 3 + 2)
        XCTAssertEqual(layer.outputShape, [1, 2, 8, 10])
    }

    /// The fuzz seeds made by make_ops_structural.py: the st_bad_* attribute decodings are refused
    /// with a GraphError (never a trap or an allocation), the other st_* seeds import.
    func testStructuralFuzzSeedsAreRefusedOrImported() throws {
        let folder = FixturePaths.path("fuzz/graph")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix("st_") }.sorted()
        XCTAssertEqual(names.filter { $0.hasPrefix("st_bad_") }.count, 19)
        XCTAssertEqual(names.count, 32)
        for name in names {
            let m = try ONNXModel.load(path: folder + "/" + name)
            if name.hasPrefix("st_bad_") {
                XCTAssertThrowsError(try Importer.importGraph(m), name)
            } else {
                XCTAssertNoThrow(try Importer.importGraph(m), name)
            }
        }
    }
}
