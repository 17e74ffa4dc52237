import Execution
import Foundation
import Influence
import NetworkIR
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
}
