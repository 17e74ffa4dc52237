import Execution
import Foundation
import NetworkIR
import TestSupport
import XCTest

/// Parameter and MAC counts against torchvision's, computed in PyTorch by the fixtures script
/// (Fixtures/models/counts.json).
final class CountTests: XCTestCase {
    func counts() throws -> [String: [String: Int]] {
        let data = try Data(contentsOf: FixturePaths.url("models/counts.json"))
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        var result: [String: [String: Int]] = [:]
        for (k, v) in root { if let d = v as? [String: Any] { result[k] = d.compactMapValues { $0 as? Int } } }
        return result
    }

    func testResNet18WithBatchNormCountsTorchvisionParameters() throws {
        let cost = try ModelFixtures.graph("models/resnet18_bn.onnx").cost(batch: 1)
        XCTAssertEqual(cost.params, 11_689_512)
        XCTAssertEqual(cost.params, try counts()["resnet18_bn"]?["params"])
        XCTAssertEqual(cost.macs, 1_814_073_344)
    }

    func testResNet18FoldedCountsInitializerTotal() throws {
        let cost = try ModelFixtures.graph("models/resnet18.onnx").cost(batch: 1)
        XCTAssertEqual(cost.params, 11_684_712)
        XCTAssertEqual(cost.params, try counts()["resnet18"]?["initializerTotal"])
        XCTAssertEqual(cost.macs, 1_814_073_344)
    }

    func testOtherModelsMatchPyTorchCounts() throws {
        let counts = try counts()
        for (file, key, bnKept) in [("models/mobilenet_v2.onnx", "mobilenet_v2", false), ("models/mobilenet_v3_small.onnx", "mobilenet_v3_small", false),
                                    ("models/squeezenet1_1.onnx", "squeezenet1_1", false), ("demo/efficientnet_lite0.onnx", "efficientnet_lite0", true),
                                    ("models/tiny_resnet.onnx", "tiny_resnet", true), ("models/tiny_mobilenet.onnx", "tiny_mobilenet", true)] {
            let graph = try ModelFixtures.graph(file)
            let size = graph.inputs[0].sampleShape
            let cost = try graph.cost(batch: 1)
            XCTAssertEqual(cost.params, counts[key]?[bnKept ? "params" : "initializerTotal"], "\(key) params")
            XCTAssertEqual(cost.macs, counts[key]?["macs"], "\(key) MACs at \(size)")
        }
    }

    /// MACs scale with the batch.
    func testMACsScaleWithBatch() throws {
        let graph = try ModelFixtures.graph("models/resnet18.onnx")
        XCTAssertEqual(try graph.cost(batch: 4).macs, 4 * 1_814_073_344)
    }
}
