import DataInput
import Execution
import Foundation
import Influence
import NetworkIR
import Support
import XCTest

/// The profile floor (`ProfileFloor`): an item's cone MACs counted from the cost model, the floor
/// linear in the inputs measured, and the report's timing carrying it.
final class ProfileFloorTests: XCTestCase {
    func testFloorCountsEachItemsCone() throws {
        let graph = try ProfileFixtures.graph("models/tiny_resnet.onnx")
        var options = ProfileOptions()
        options.kinds = [.channel]
        options.threads = 2
        options.incremental = false
        let profiler = try Profiler(graph: graph, options: options)
        let cost = try graph.cost(batch: 1)
        let total = Double(cost.macs)
        let one = try profiler.floor(inputs: profiler.items.map { _ in 1 }, batch: 2)
        let three = try profiler.floor(inputs: profiler.items.map { _ in 3 }, batch: 2)
        XCTAssertGreaterThan(one.rate, 0)
        XCTAssertEqual(three.macs, 3 * one.macs, accuracy: 1e-6 * three.macs)
        // Every channel's cone lies downstream of its layer, so no cone exceeds the whole model
        // and the first layer's channels pay for nearly all of it.
        XCTAssertLessThan(one.macs, Double(profiler.items.count) * total)
        let firstLayer = profiler.items.filter { $0.producers == profiler.items[0].producers }
        let only = try profiler.floor(inputs: profiler.items.map { firstLayer.contains($0) ? 1 : 0 }, batch: 2)
        let stem = Double(cost.layers.first { $0.name == graph.nodes[profiler.items[0].producers[0]].name }!.macs)
        XCTAssertEqual(only.macs, Double(firstLayer.count) * (total - stem), accuracy: 1e-6 * only.macs, "a stem channel's cone: everything after the stem")
    }

    /// A report's `timing`: the floor and its ratio, and `phases`, whose wall phases fit within
    /// `seconds`, with each batch's read, baseline and item waves counted and the workers' cone
    /// time at most twice the waves' (two workers); the CPU-time view of the floor is consistent.
    func testReportTimingSaysWhereTheTimeWent() throws {
        let graph = try ProfileFixtures.graph("models/tiny_resnet.onnx")
        let x = Tensor(shape: [6, 3, 64, 64], storage: SyntheticNormalGenerator(seed: 5).elements(from: 0, count: 6 * 3 * 64 * 64))
        let checkpoint = FileManager.default.temporaryDirectory.appendingPathComponent("phases-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: checkpoint) }
        var request = ProfileRequest()
        request.data = "test"
        request.measure.batchSize = 3
        request.measure.layerPattern = "/layer2*"
        request.measure.bootstrapResamples = 20
        request.threads = 2
        request.checkpoint = checkpoint
        let run = try ProfileRun(request: request, graph: graph, identity: "test")
        var read = 0
        let source = ReplayableInputs(count: 6) { size in
            let next = try ReplayableInputs(x, labels: nil).open(size)
            return { read += 1; return try next() }
        }
        let report = try run.run(inputs: .replayable(source), model: ["path": "m"], data: { _ in .null }, progress: { _ in })
        let timing = try XCTUnwrap(report["timing"])
        let seconds = try XCTUnwrap(timing["seconds"]?.doubleValue)
        // Rounded to the millisecond: a tiny model's floor can round to 0 (floorCPUSeconds is not rounded).
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(timing["floorSeconds"]?.doubleValue), 0)
        XCTAssertNotNil(timing["floorRatio"]?.doubleValue)
        XCTAssertNotNil(timing["assemblySeconds"]?.doubleValue)
        XCTAssertNotNil(timing["floorMeasurementSeconds"]?.doubleValue)
        // The CPU-time view of the same floor: its seconds at the CPU rate, and the ratio.
        let cpuSeconds = try XCTUnwrap(timing["cpuSeconds"]?.doubleValue)
        XCTAssertGreaterThan(cpuSeconds, 0)
        let cpuRate = try XCTUnwrap(timing["engineMACsPerCPUSecond"]?.doubleValue)
        let floorCPU = try XCTUnwrap(timing["floorCPUSeconds"]?.doubleValue)
        XCTAssertGreaterThan(floorCPU, 0)
        // Both floors are the same MACs at two rates (floorSeconds is rounded to the millisecond).
        let rate = try XCTUnwrap(timing["engineMACsPerSecond"]?.doubleValue)
        let floorMACs = try XCTUnwrap(timing["floorSeconds"]?.doubleValue) * rate
        XCTAssertEqual(floorCPU * cpuRate, floorMACs, accuracy: 0.0005 * rate + 1e-6 * floorMACs)
        XCTAssertEqual(try XCTUnwrap(timing["floorCPURatio"]?.doubleValue), cpuSeconds / floorCPU, accuracy: 0.0006 / floorCPU + 1e-3 * cpuSeconds / floorCPU, "cpuSeconds is rounded to the millisecond")
        let phases = try XCTUnwrap(timing["phases"])
        var wall = 0.0
        for name in ["inputs", "baseline", "estimators", "items", "checkpoints", "other"] {
            let value = try XCTUnwrap(phases[name]?.doubleValue, name)
            XCTAssertGreaterThanOrEqual(value, 0, name)
            wall += value
        }
        XCTAssertEqual(wall, seconds, accuracy: 0.005 + 1e-3 * seconds, "the phases and other add up to seconds")
        // Milliseconds: a small checkpoint's save can round to 0, the passes cannot.
        for name in ["baseline", "items"] { XCTAssertGreaterThan(phases[name]?.doubleValue ?? 0, 0, name) }
        XCTAssertEqual(read, 3, "two batches and the end")
        let cones = try XCTUnwrap(phases["itemThreadSeconds"]?["cones"]?.doubleValue)
        XCTAssertGreaterThan(cones, 0)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(phases["itemThreadSeconds"]?["metrics"]?.doubleValue), 0)
        // Two workers: their summed cone time cannot exceed twice the waves' wall time.
        XCTAssertLessThanOrEqual(cones, 2 * (phases["items"]?.doubleValue ?? 0) + 0.01)
        // The test's stand-in model and data objects are not schema-valid; timing must be.
        XCTAssertEqual(ReportSchema.validator.violations(of: report).filter { $0.hasPrefix("$.timing") }, [])
    }
}
