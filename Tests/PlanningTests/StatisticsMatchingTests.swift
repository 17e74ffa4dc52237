import ChannelGroups
import Execution
import Foundation
import NetworkIR
@testable import Planning
import Pruning
import TestSupport
import Training
import XCTest

/// `--recalibration match`: after the corrections are written into the constants, every corrected
/// layer's output channels have, on the calibration inputs, the mean and standard deviation the
/// unpruned model's channels have there; layers upstream of the cut are untouched; no cut, no
/// correction. On a BN-folded model (corrections in weights and biases) and on a model whose
/// convolutions feed BatchNormalization (corrections in its scale and mean).
final class StatisticsMatchingTests: XCTestCase {
    /// Per-channel (mean, population deviation) of `t` over every axis but 1.
    func statistics(_ t: Tensor) -> [(Double, Double)] {
        let channels = t.shape[1], batch = t.shape[0], inner = t.count / (batch * channels)
        return (0..<channels).map { c in
            var s = 0.0, q = 0.0
            for n in 0..<batch { for i in 0..<inner { let x = Double(t.storage[(n * channels + c) * inner + i]); s += x; q += x * x } }
            let count = Double(batch * inner), m = s / count
            return (m, max(q / count - m * m, 0).squareRoot())
        }
    }

    /// Where each layer's correction shows, by layer name: its output, or, for a layer without
    /// bias whose output only a BatchNormalization reads (the correction lives in that
    /// BatchNormalization), the BatchNormalization's output.
    func correctedValue(_ graph: Graph, layer: String) -> ValueID {
        let node = graph.nodes[graph.node(named: layer)!]
        let readers = graph.consumers()[node.outputs[0]]
        if node.inputs.count < 3, readers.count == 1, case .batchNormalization = graph.nodes[readers[0]].op {
            return graph.nodes[readers[0]].outputs[0]
        }
        return node.outputs[0]
    }

    /// The values where `names`' corrections show, on `x`, by layer name.
    func layerOutputs(_ graph: Graph, _ x: Tensor, names: [String]) throws -> [String: Tensor] {
        let ids = names.map { correctedValue(graph, layer: $0) }
        let plan = try ExecutionPlan(graph: graph, options: ExecutionOptions(threads: 2, observable: Set(ids)))
        let values = try plan.run(known: [graph.inputs[0].value: x], outputs: graph.outputs, keep: Set(ids))
        return Dictionary(uniqueKeysWithValues: zip(names, ids).map { ($0, values[$1]!) })
    }

    func check(_ model: String, input: String, groups fraction: Double, expectBatchNormPlacement: Bool) throws {
        let s = try PlannerTests.setup(model, input: input, count: 4)
        let prunable = s.discovery.dependencies.groups.indices.filter { s.discovery.dependencies.groups[$0].prunable }
        XCTAssertGreaterThan(prunable.count, 4, model)
        // Every k-th prunable group: a cut spread over the network.
        let step = max(1, Int(1 / fraction))
        let removed = Set(prunable.enumerated().filter { $0.offset % step == 1 }.map(\.element))
        s.verifier.recalibrationRule = .match
        let (matched, summary) = try s.verifier.recalibratedGraph(removing: removed, inputs: 4)
        let corrections = try XCTUnwrap(summary).corrected
        XCTAssertGreaterThan(corrections.count, 3, "\(model): layers downstream of the cut")
        let names = corrections.map(\.node)
        let original = try layerOutputs(s.graph, s.inputs[0], names: names)
        let after = try layerOutputs(matched, s.inputs[0], names: names)
        let removedByProducer = s.verifier.removedChannels(removed)
        var compared = 0
        for name in names {
            let o = statistics(original[name]!), a = statistics(after[name]!)
            XCTAssertEqual(o.count, a.count)
            // Channels the cut removes at this layer's own tail are zeroed later; skip them.
            let node = s.graph.node(named: name)!
            let removedHere = Set(s.verifier.tailEnd[node].flatMap { removedByProducer[$0] } ?? [])
            for c in 0..<o.count where !removedHere.contains(c) && o[c].1 > 1e-6 && a[c].1 > 0 {
                XCTAssertEqual(a[c].0, o[c].0, accuracy: 1e-3 * o[c].1 + 1e-5, "\(model) \(name) channel \(c): mean")
                XCTAssertEqual(a[c].1, o[c].1, accuracy: 1e-3 * o[c].1, "\(model) \(name) channel \(c): deviation")
                compared += 1
            }
        }
        XCTAssertGreaterThan(compared, 20, model)
        // Where the corrections went.
        var copy = s.graph
        let changed = try StatisticsMatching.apply(corrections, to: &copy)
        let batchNormScales = Set(s.graph.nodes.filter { if case .batchNormalization = $0.op { return true } else { return false } }
            .map { s.graph.values[$0.inputs[1]].name })
        XCTAssertEqual(changed.contains { batchNormScales.contains($0) }, expectBatchNormPlacement, model)
        // Layers upstream of the cut keep their constants; the untouched graph is not changed.
        let cone = Set(s.graph.downstreamCone(of: Set(removedByProducer.keys)).map { s.graph.nodes[$0].name })
        var upstream = 0
        for node in s.graph.nodes where !cone.contains(node.name) {
            guard case .conv = node.op else { continue }
            XCTAssertEqual(copy.constants[node.inputs[1]], s.graph.constants[node.inputs[1]], "\(model): \(node.name) is upstream of the cut")
            upstream += 1
        }
        XCTAssertGreaterThan(upstream, 0, "\(model): the cut leaves some layer upstream")
        // No cut: nothing to correct.
        let (same, none) = try s.verifier.recalibratedGraph(removing: [], inputs: 4)
        XCTAssertEqual(try XCTUnwrap(none).corrected.count, 0)
        XCTAssertEqual(same.constants.count, s.graph.constants.count)
    }

    func testFoldedModelCorrectsWeightsAndBiases() throws {
        try check("models/mobilenet_v2.onnx", input: "models/mobilenet_v2.input.npy", groups: 0.2, expectBatchNormPlacement: false)
    }

    func testBatchNormModelCorrectsTheFollowingBatchNormalization() throws {
        try check("models/tiny_resnet.onnx", input: "models/tiny_resnet.input.npy", groups: 0.3, expectBatchNormPlacement: true)
    }
}
