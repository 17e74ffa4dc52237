import Foundation
import TestSupport
import XCTest

/// `weakspot count` against the counts PyTorch and onnx computed (Fixtures/models/counts.json).
final class CountTests: XCTestCase {
    func testResNet18JSONTotalsMatchTorchvision() throws {
        let result = weakspot("count", FixturePaths.path("models/resnet18_bn.onnx"), "--format", "json")
        XCTAssertEqual(result.code, 0, result.error)
        let document = try parseJSON(result.output)
        let totals = try XCTUnwrap(document["totals"] as? [String: Any])
        XCTAssertEqual(totals["params"] as? Int, 11_689_512)
        XCTAssertEqual(totals["macs"] as? Int, 1_814_073_344)
        let layers = try XCTUnwrap(document["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.compactMap { $0["params"] as? Int }.reduce(0, +), 11_689_512)
        XCTAssertEqual(layers.compactMap { $0["macs"] as? Int }.reduce(0, +), 1_814_073_344)
        XCTAssertEqual(layers.filter { $0["op"] as? String == "BatchNormalization" }.count, 20)
        for layer in layers {
            XCTAssertEqual(Set(layer.keys), ["name", "op", "outputShape", "params", "macs"])
        }
        let first = try XCTUnwrap(layers.first)
        XCTAssertEqual(first["op"] as? String, "Conv")
        XCTAssertEqual(first["outputShape"] as? [Int], [1, 64, 112, 112])
        XCTAssertEqual(first["params"] as? Int, 64 * 3 * 7 * 7)
        let model = try XCTUnwrap(document["model"] as? [String: Any])
        XCTAssertEqual(model["inputShape"] as? [Int], [1, 3, 224, 224])
        XCTAssertEqual(model["layout"] as? String, "NCHW")
        XCTAssertEqual(model["path"] as? String, FixturePaths.path("models/resnet18_bn.onnx"))
        // Sorted keys, stable bytes.
        XCTAssertTrue(result.output.hasPrefix("{\n  \"layers\": ["))
        XCTAssertEqual(weakspot("count", FixturePaths.path("models/resnet18_bn.onnx"), "--format", "json").output, result.output)
    }

    func testEveryReferenceModelTotal() throws {
        let counts = try parseJSON(String(decoding: try FixturePaths.data("models/counts.json"), as: UTF8.self))
        XCTAssertGreaterThanOrEqual(counts.count, 8)
        for (name, value) in counts {
            let entry = try XCTUnwrap(value as? [String: Any])
            let file = try XCTUnwrap(entry["file"] as? String)
            let shape = try XCTUnwrap(entry["macsInputShape"] as? [Int])
            let path = FixturePaths.path("models/" + file)
            let result = weakspot("count", path, "--format", "json", "--input-shape", shape.map(String.init).joined(separator: "x"))
            XCTAssertEqual(result.code, 0, "\(name): \(result.error)")
            let totals = try XCTUnwrap(try parseJSON(result.output)["totals"] as? [String: Any])
            // Trained parameters: the initializers minus BatchNormalization's running statistics.
            let initializers = try XCTUnwrap(entry["initializerTotal"] as? Int)
            let statistics = try XCTUnwrap(entry["batchNormStatistics"] as? Int)
            XCTAssertEqual(totals["params"] as? Int, initializers - statistics, name)
            XCTAssertEqual(totals["macs"] as? Int, entry["macs"] as? Int, name)
        }
    }

    func testCSVHeaderAndRows() throws {
        let result = weakspot("count", FixturePaths.path("models/tiny_concat.onnx"), "--format", "csv")
        XCTAssertEqual(result.code, 0, result.error)
        let lines = result.output.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "name,op,output_shape,params,macs")
        let rows = lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        XCTAssertTrue(rows.allSatisfy { $0.count == 5 })
        XCTAssertEqual(rows.compactMap { Int($0[3]) }.reduce(0, +), 11_738 - 176)
        XCTAssertEqual(rows.compactMap { Int($0[4]) }.reduce(0, +), 3_162_432)
        XCTAssertEqual(rows.first?[2], "1x16x32x32")
    }

    func testTableHasAlignedColumnsAndGroupedTotals() {
        let result = weakspot("count", FixturePaths.path("models/resnet18_bn.onnx"))
        XCTAssertEqual(result.code, 0, result.error)
        let lines = result.output.split(separator: "\n").map(String.init)
        let total = lines.last ?? ""
        XCTAssertTrue(total.hasPrefix("total (69 layers)"), total)
        XCTAssertTrue(total.hasSuffix("11,689,512  1,814,073,344"), total)
        let header = lines.first { $0.hasPrefix("layer") } ?? ""
        XCTAssertEqual(header.count, total.count, "the MACs column ends where the total ends")
    }

    func testNHWCModelReportsItsLayout() throws {
        let result = weakspot("count", FixturePaths.path("models/keras_nhwc_cnn.onnx"), "--format", "json")
        XCTAssertEqual(result.code, 0, result.error)
        let model = try XCTUnwrap(try parseJSON(result.output)["model"] as? [String: Any])
        XCTAssertEqual(model["layout"] as? String, "NHWC")
        XCTAssertEqual(model["inputShape"] as? [Int], [1, 64, 64, 3])
    }
}
