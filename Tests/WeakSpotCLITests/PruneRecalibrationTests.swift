import Foundation
import ONNXFormat
import TestSupport
import XCTest

/// `prune --recalibrate N --data DATA`: the pruned model with its BatchNormalization statistics
/// re-estimated (the rule itself is checked against PyTorch in TrainingTests/RecalibrationTests):
/// only running statistics change, every one of them does, the run is deterministic, and the
/// option pair is validated.
final class PruneRecalibrationTests: XCTestCase {
    let inputs = FixturePaths.path("models/tiny_mobilenet.input.npy")

    func initializers(_ path: String) throws -> [String: [Float]] {
        var out: [String: [Float]] = [:]
        for t in try ONNXModel.load(path: path).graph.initializers where t.dataType == .float { out[t.name] = try t.floats() }
        return out
    }

    func testRecalibrationChangesOnlyTheRunningStatistics() throws {
        let folder = try temporaryFolder(self)
        let support = PrunePlanFixture.self
        let plan = try support.write(try support.validPlan(), folder)
        let model = support.modelPath
        let raw = weakspot("prune", model, plan, "-o", folder + "/raw.onnx")
        XCTAssertEqual(raw.code, 0, raw.error)
        let result = weakspot("prune", model, plan, "-o", folder + "/recal.onnx", "--recalibrate", "4", "--data", inputs, "--batch", "2")
        XCTAssertEqual(result.code, 0, result.error)
        XCTAssertTrue(result.output.contains("on 4 inputs (2 batches)"), result.output)
        let again = weakspot("prune", model, plan, "-o", folder + "/again.onnx", "--recalibrate", "4", "--data", inputs, "--batch", "2")
        XCTAssertEqual(again.code, 0, again.error)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: folder + "/again.onnx")), try Data(contentsOf: URL(fileURLWithPath: folder + "/recal.onnx")))

        let before = try initializers(folder + "/raw.onnx"), after = try initializers(folder + "/recal.onnx")
        XCTAssertEqual(Set(before.keys), Set(after.keys))
        let statistics = Set(try ONNXModel.load(path: folder + "/raw.onnx").graph.nodes.filter { $0.opType == "BatchNormalization" }.flatMap { $0.inputs[3...4] })
        XCTAssertFalse(statistics.isEmpty)
        for (name, values) in before {
            if statistics.contains(name) {
                XCTAssertNotEqual(after[name], values, "\(name) is recalibrated")
            } else {
                XCTAssertEqual(after[name], values, "\(name) is not a running statistic and must not change")
            }
        }
    }

    func testOptionPairIsValidated() throws {
        let folder = try temporaryFolder(self)
        let support = PrunePlanFixture.self
        let plan = try support.write(try support.validPlan(), folder)
        let noData = weakspot("prune", support.modelPath, plan, "-o", folder + "/p.onnx", "--recalibrate", "4")
        XCTAssertEqual(noData.code, 2)
        XCTAssertTrue(noData.error.contains("--recalibrate needs --data"), noData.error)
        let noCount = weakspot("prune", support.modelPath, plan, "-o", folder + "/p.onnx", "--data", inputs)
        XCTAssertEqual(noCount.code, 2)
        XCTAssertTrue(noCount.error.contains("--data is only read with --recalibrate"), noCount.error)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/p.onnx"))
    }
}
