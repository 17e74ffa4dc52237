import NetworkIR
import ONNXFormat
import Quantization
import TestSupport
import XCTest

/// A model whose weights live in external data files (resnet18.onnx with resnet18.data0 and
/// .data1) is written as one self-contained QDQ file: its integers inline, no external reference
/// left, readable from memory without the data files, and read back as the fake-quantized graph.
final class QDQExternalDataTests: XCTestCase {
    func testExternalDataModelIsWrittenInline() throws {
        let (model, graph) = try QuantizationFixtures.model("models/resnet18.onnx")
        let layers = QuantizableLayer.all(in: graph)
        // Every third convolution and the classifier: weights from both data files, fewer to round.
        let chosen = layers.enumerated().filter { $0.offset % 3 == 0 || $0.element.name == "/fc/Gemm" }.map(\.element)
        XCTAssertTrue(chosen.contains { $0.name == "/fc/Gemm" })
        let assignment = QuantizationAssignment(weightBits: Dictionary(uniqueKeysWithValues: chosen.map { ($0.name, 8) }))
        // QuantizeRun reads the written model back (QDQCheck): every chosen weight bit for bit.
        let result = try QuantizeRun.run(model: model, graph: graph, assignment: assignment, calibration: [], check: nil, threads: 2,
                                         importOptions: ImportOptions())
        let bytes = result.model.encoded()
        let decoded = try ONNXModel.decode(bytes, externalDataDirectory: nil)
        XCTAssertEqual(decoded.graph.nodes.filter { $0.opType == "DequantizeLinear" }.count, chosen.count)
        let reimported = try Importer.importGraph(decoded)
        for layer in chosen {
            let name = graph.values[layer.weight].name
            let want = try XCTUnwrap(result.graph.constants[layer.weight])
            let got = try XCTUnwrap(reimported.value(named: name).flatMap { reimported.constants[$0] }, name)
            XCTAssertEqual(got.storage.map(\.bitPattern), want.storage.map(\.bitPattern), name)
            XCTAssertNotEqual(got.storage, graph.constants[layer.weight]!.storage, "\(name) was not quantized")
        }
        // The float weights of the chosen layers are gone: 3 bytes of 4 saved on each.
        let saved = chosen.reduce(0) { $0 + 3 * $1.params }
        let floatSize = try ONNXModel.load(path: FixturePaths.path("models/resnet18.onnx")).encoded().count
        XCTAssertLessThan(bytes.count, floatSize - saved + 100_000)
        XCTAssertGreaterThan(bytes.count, floatSize - saved - 100_000)
    }
}
