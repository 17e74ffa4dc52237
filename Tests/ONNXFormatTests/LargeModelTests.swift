import Foundation
import ONNXFormat
import TestSupport
import XCTest

/// A ResNet-18-sized model (11.7 M float32 parameters, about 45 MB) must decode quickly: raw
/// data is copied once per tensor, never appended byte by byte. Timing is printed, not asserted.
final class LargeModelTests: XCTestCase {
    func testResNet18SizedModelDecodes() throws {
        // ResNet-18's conv and fc weight shapes (OIHW), biases omitted.
        var shapes: [[Int]] = [[64, 3, 7, 7]]
        for (inC, outC) in [(64, 64), (64, 128), (128, 256), (256, 512)] {
            shapes += [[outC, inC, 3, 3], [outC, outC, 3, 3], [outC, outC, 3, 3], [outC, outC, 3, 3]]
            if inC != outC { shapes.append([outC, inC, 1, 1]) }
        }
        shapes.append([1000, 512])
        var tensors: [ONNXTensor] = []
        var total = 0
        for (i, dims) in shapes.enumerated() {
            let count = dims.reduce(1, *)
            let values = (0..<count).map { Float($0 % 1000) * 0.001 - Float(i) }
            tensors.append(ONNXTensor(name: "w\(i)", floats: values, dims: dims))
            total += count
        }
        XCTAssertGreaterThan(total, 11_000_000)
        let model = ONNXModel(graph: ONNXGraph(name: "big", initializers: tensors))
        let bytes = model.encoded()
        XCTAssertGreaterThan(bytes.count, 44_000_000)

        let start = Date()
        let decoded = try ONNXModel.decode(bytes, externalDataDirectory: nil)
        var checksum: Float = 0
        for tensor in decoded.graph.initializers { checksum += try tensor.floats().last ?? 0 }
        let seconds = Date().timeIntervalSince(start)
        print("decoded \(bytes.count) bytes and read all floats in \(String(format: "%.3f", seconds)) s")
        XCTAssertEqual(decoded, model)
        XCTAssertTrue(checksum.isFinite)
    }

    /// The committed torchvision models (Fixtures/models, made by make_models.py; ResNet-18 is
    /// 45 MB in two external-data files): initializer totals match counts.json, written by PyTorch.
    func testCommittedModelsLoadWithTheirInitializerTotals() throws {
        struct Entry: Decodable { var file: String; var initializerTotal: Int }
        let countsPath = FixturePaths.path("models/counts.json")
        guard FileManager.default.fileExists(atPath: countsPath) else { throw XCTSkip("Fixtures/models/counts.json missing") }
        let entries = try JSONDecoder().decode([String: Entry].self, from: Data(FixturePaths.data("models/counts.json")))
        XCTAssertNotNil(entries["resnet18"])
        for (name, entry) in entries.sorted(by: { $0.key < $1.key }) {
            let path = FixturePaths.path("models/" + entry.file)
            let start = Date()
            let model = try ONNXModel.load(path: path)
            var total = 0
            for tensor in model.graph.initializers {
                total += tensor.elementCount
                if tensor.dataType == .float { XCTAssertEqual(try tensor.floats().count, tensor.elementCount) }
            }
            let seconds = Date().timeIntervalSince(start)
            print("\(name): loaded and read \(total) initializer elements in \(String(format: "%.3f", seconds)) s")
            XCTAssertEqual(total, entry.initializerTotal, name)
            XCTAssertEqual(try ONNXModel.decode(model.encoded(), externalDataDirectory: nil), model, name)
        }
    }

    /// With `WEAKSPOT_ONNX_REENCODE=IN.onnx:OUT.onnx[,IN2:OUT2...]`, decodes real models, prints the
    /// load time and writes our encoding to OUT for `make_onnx_fixtures.py --check-roundtrip IN OUT`.
    func testReencodeRealModelsWhenAsked() throws {
        guard let spec = ProcessInfo.processInfo.environment["WEAKSPOT_ONNX_REENCODE"] else {
            throw XCTSkip("WEAKSPOT_ONNX_REENCODE not set")
        }
        for pair in spec.split(separator: ",") {
            let parts = pair.split(separator: ":").map(String.init)
            guard parts.count == 2 else { return XCTFail("expected IN:OUT, got \(pair)") }
            var model = try ONNXModel.load(path: parts[0])
            var times: [Double] = []
            for _ in 0..<3 {
                let start = Date()
                model = try ONNXModel.load(path: parts[0])
                times.append(Date().timeIntervalSince(start))
            }
            print("loaded \(parts[0]) (\(model.graph.nodes.count) nodes, \(model.graph.initializers.count) initializers): "
                  + times.map { String(format: "%.3f", $0) }.joined(separator: ", ") + " s")
            try Data(model.encoded()).write(to: URL(fileURLWithPath: parts[1]))
            XCTAssertEqual(try ONNXModel.decode(model.encoded(), externalDataDirectory: nil), model)
        }
    }
}
