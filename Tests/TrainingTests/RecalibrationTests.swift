import DataInput
import Execution
import Foundation
import NetworkIR
import ONNXFormat
import TestSupport
import Training
import XCTest

/// BatchNormalization recalibration against PyTorch's adaptive BatchNorm (model.train(),
/// momentum=None, batches of 4 over 10 inputs; Fixtures/scripts/make_recalibration_fixtures.py):
/// every running statistic, and the eval-mode logits after.
final class RecalibrationTests: XCTestCase {
    func testRunningStatisticsMatchPyTorchAdaptiveBatchNorm() throws {
        let expected = try TrainingFixtures.json("recalibration/expected.json")
        var graph = try TrainingFixtures.graph("recalibration/small_bn.onnx")
        let array = try NPYArray.read(path: FixturePaths.path("recalibration/inputs.npy"))
        let values = try array.floats()
        let sample = Array(array.shape.dropFirst()), per = sample.reduce(1, *)
        let batch = try XCTUnwrap(expected["batch"] as? Int)
        let batches = stride(from: 0, to: array.shape[0], by: batch).map { start in
            let n = min(batch, array.shape[0] - start)
            return Tensor(shape: [n] + sample, storage: Array(values[(start * per)..<((start + n) * per)]))
        }
        XCTAssertEqual(batches.map { $0.shape[0] }, [4, 4, 2])
        let before = Recalibration.statistics(of: graph)
        let summary = try Recalibration.batchNormalization(&graph, batches: batches, threads: 2)
        XCTAssertEqual(summary, Recalibration.Summary(layers: 3, inputs: 10, batches: 3))

        let statistics = Recalibration.statistics(of: graph)
        let reference = try XCTUnwrap(expected["statistics"] as? [String: Any])
        XCTAssertEqual(Set(statistics.keys), Set(reference.keys))
        var worst = 0.0
        for (name, any) in reference {
            let want = try TrainingFixtures.floats(any), got = try XCTUnwrap(statistics[name])
            XCTAssertEqual(got.count, want.count, name)
            XCTAssertNotEqual(before[name], got, "\(name) changed")
            for (g, w) in zip(got, want) { worst = max(worst, Double(abs(g - w)) / max(1e-3, Double(abs(w)))) }
        }
        XCTAssertLessThan(worst, 1e-5, "running statistics vs PyTorch, worst relative error")

        let logits = try ExecutionPlan(graph: graph, options: ExecutionOptions(threads: 2)).run(Tensor(shape: array.shape, storage: values))[0]
        let want = try TrainingFixtures.floats(expected["logits"])
        let peak = want.map { abs($0) }.max()!
        XCTAssertEqual(logits.storage.count, want.count)
        let error = zip(logits.storage, want).map { Double(abs($0 - $1)) }.max()! / Double(peak)
        XCTAssertLessThan(error, 1e-5, "eval-mode logits after recalibration vs PyTorch, relative to the peak")
        print("recalibration vs PyTorch: statistics worst relative \(worst), logits \(error) of the peak")
    }

    /// A model with no BatchNormalization statistics (SqueezeNet has none) is refused, naming why.
    func testAModelWithoutBatchNormalizationIsRefused() throws {
        var graph = try TrainingFixtures.graph("models/squeezenet1_1.onnx")
        let input = Tensor(shape: [1, 3, 224, 224], storage: .init(repeating: 0.5, count: 3 * 224 * 224))
        XCTAssertThrowsError(try Recalibration.batchNormalization(&graph, batches: [input], threads: 1)) {
            XCTAssertTrue("\($0)".contains("no BatchNormalization with stored running statistics"), "\($0)")
        }
    }
}
