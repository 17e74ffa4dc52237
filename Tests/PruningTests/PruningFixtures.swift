import ChannelGroups
import DataInput
import Execution
import Foundation
import Influence
import NetworkIR
import ONNXFormat
import Pruning
import Support
import TestSupport

/// A committed model loaded for pruning tests, and the masked-model reference.
struct PruningCase {
    let model: ONNXModel
    let graph: Graph
    let analysis: DependencyAnalysis

    init(_ relative: String) throws {
        try self.init(model: try ONNXModel.load(path: FixturePaths.path(relative)))
    }

    init(model: ONNXModel) throws {
        self.model = model
        graph = try Importer.importGraph(model)
        analysis = try DependencyAnalysis(graph: graph)
    }

    /// Layer groups whose every channel is prunable.
    var prunableLayerGroups: [LayerGroup] {
        analysis.layerGroups().filter { lg in lg.dependencyGroups.allSatisfy { analysis.groups[$0].prunable } }
    }

    /// A seeded random removal: 30–50% of each prunable layer group's channels (never all).
    func randomRemoval(seed: UInt64) -> Set<Int> {
        var rng = SplitMix64(seed: seed)
        var removed = Set<Int>()
        for lg in prunableLayerGroups where lg.channels >= 2 {
            let fraction = 0.3 + 0.2 * Double(rng.next() % 1000) / 1000
            let count = min(lg.channels - 1, max(1, Int(Double(lg.channels) * fraction)))
            var order = lg.dependencyGroups
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            removed.formUnion(order.prefix(count))
        }
        return removed
    }

    /// The original graph run with every removed group's channels zeroed at each member's
    /// per-channel tail end (the profiler's structural ablation), independent of the pruner.
    func maskedOutput(removing removed: Set<Int>, input: Tensor) throws -> Tensor {
        let tails = try graph.channelTails()
        var zeroed: [ValueID: Set<Int>] = [:]
        var axis: [ValueID: Int] = [:]
        for g in removed {
            for m in analysis.groups[g].members {
                let tail = tails.first { $0.producer == m.producer }!
                zeroed[tail.end, default: []].insert(m.channel)
                axis[tail.end] = tail.axis
            }
        }
        let plan = try ExecutionPlan(graph: graph, options: ExecutionOptions(threads: 2, observable: Set(zeroed.keys)))
        var interventions: [ValueID: Intervention] = [:]
        for (v, channels) in zeroed {
            let a = axis[v] ?? 1
            interventions[v] = { t in
                // Channels on axis `a` (3 on an NHWC tail end): blocks before it, positions after it.
                let c = t.shape[a], inner = t.shape[(a + 1)...].reduce(1, *)
                for n in 0..<t.shape[..<a].reduce(1, *) {
                    for ch in channels { for i in 0..<inner { t.storage[(n * c + ch) * inner + i] = 0 } }
                }
            }
        }
        let out = graph.outputs[0]
        return try plan.run(known: [graph.inputs[0].value: input], outputs: [out], interventions: interventions)[out]!
    }

    static func input(_ relative: String, limit: Int) throws -> Tensor {
        let a = try NPYArray.read(path: FixturePaths.path(relative))
        let x = Tensor(shape: a.shape, storage: a.floats())
        let n = min(limit, x.shape[0]), per = x.count / x.shape[0]
        return Tensor(shape: [n] + x.shape.dropFirst(), storage: Array(x.storage[0 ..< n * per]))
    }
}

/// Run a graph on one input batch and return its first output.
func runGraph(_ graph: Graph, _ input: Tensor) throws -> Tensor {
    try ExecutionPlan(graph: graph, options: ExecutionOptions(threads: 2)).run(input)[0]
}


