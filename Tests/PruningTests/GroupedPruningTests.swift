import ChannelGroups
import DataInput
import Execution
import Foundation
import NetworkIR
import ONNXFormat
import Pruning
import Support
import TestSupport
import XCTest

/// Grouped (not depthwise) convolutions and a channel shuffle (Fixtures/grouped, written by
/// Fixtures/scripts/make_grouped_fixtures.py): every rewrite the pruner has for them — one
/// grouped Conv kept, a Conv split per group, a group that loses every output or every input, a
/// shuffle kept as Reshape/Transpose/Reshape or written as a Gather — run by WeakSpot equals
/// ONNX Runtime's masked model (`<case>.masked.npy`) and WeakSpot's own masked model.
final class GroupedPruningTests: XCTestCase {
    static let model = "grouped/grouped_shuffle.onnx"

    func loadCase() throws -> (PruningCase, Tensor) {
        (try PruningCase(Self.model), try PruningCase.input("grouped/input.npy", limit: 3))
    }

    /// The dependency groups of `spec` (producer node name → its removed output channels).
    func removal(_ c: PruningCase, _ spec: [String: [Int]]) throws -> Set<Int> {
        var removed = Set<Int>()
        for (name, channels) in spec {
            let producer = try XCTUnwrap(c.graph.nodes.firstIndex { $0.name == name }, name)
            let groups = try XCTUnwrap(c.analysis.groupOfChannel[producer], name)
            for ch in channels { removed.insert(groups[ch]) }
        }
        return removed
    }

    func cases() throws -> [String: [String: [Int]]] {
        let data = try Data(contentsOf: FixturePaths.url("grouped/cases.json"))
        return try JSONDecoder().decode([String: [String: [Int]]].self, from: data)
    }

    /// Prunes one case of cases.json; checks it against both masked references; returns the
    /// pruned model and the nodes of its ONNX graph.
    @discardableResult
    func prune(_ name: String) throws -> (model: ONNXModel, nodes: [ONNXNode]) {
        let (c, x) = try loadCase()
        let spec = try XCTUnwrap(try cases()[name], name)
        let removed = try removal(c, spec)
        XCTAssertEqual(removed.count, spec.values.reduce(0) { $0 + $1.count }, name)
        for g in removed { XCTAssertTrue(c.analysis.groups[g].prunable, "\(name): group \(g): \(c.analysis.groups[g].reason ?? "")") }
        let pruned = try ChannelPruner(model: c.model, graph: c.graph, analysis: c.analysis).pruned(removing: removed)
        let reloaded = try ONNXModel.decode(pruned.encoded(), externalDataDirectory: nil)
        let graph = try Importer.importGraph(reloaded)
        let got = try runGraph(graph, x).storage
        let ort = try NPYArray.read(path: FixturePaths.path("grouped/\(name).masked.npy")).floats()
        let original = try NPYArray.read(path: FixturePaths.path("grouped/output.npy")).floats()
        XCTAssertNotNil(mismatch(original, ort, .relativeToPeak(1e-3)), "\(name): the masks must change the output")
        XCTAssertNil(mismatch(got, ort, .relativeToPeak(1e-5)), "\(name): pruned (WeakSpot) vs masked (ONNX Runtime)")
        XCTAssertNil(mismatch(got, try c.maskedOutput(removing: removed, input: x).storage, .relativeToPeak(1e-6)),
                     "\(name): pruned vs masked (WeakSpot)")
        return (reloaded, reloaded.graph.nodes)
    }

    func node(_ nodes: [ONNXNode], _ name: String) throws -> ONNXNode {
        try XCTUnwrap(nodes.first { $0.name == name }, "no node \(name) in \(nodes.map(\.name))")
    }

    func weightDims(_ model: ONNXModel, _ node: ONNXNode) throws -> [Int] {
        try XCTUnwrap(model.graph.initializers.first { $0.name == node.inputs[1] }, node.name).dims
    }

    func testShuffleIsAPermutationAndEveryChannelIsPrunable() throws {
        let (c, _) = try loadCase()
        let permutations = try c.graph.channelPermutations()
        XCTAssertEqual(permutations.count, 1)
        XCTAssertEqual(permutations.first?.source, [0, 4, 1, 5, 2, 6, 3, 7])
        XCTAssertEqual(permutations.first?.nodes.count, 3)
        // conv0 (8), conv1 (6), conv2 (4): each channel its own group, all prunable; the Gemm's
        // 3 outputs are the graph output.
        XCTAssertEqual(c.analysis.groups.count, 21)
        XCTAssertEqual(c.analysis.groups.filter(\.prunable).count, 18, "\(c.analysis.groups.compactMap(\.reason))")
        XCTAssertEqual(c.analysis.groups.filter { !$0.prunable }.compactMap(\.reason).filter { $0.contains("graph output") }.count, 3)
        // conv1 reads conv0's channel i·4 + k at its input k·2 + i (through the shuffle).
        let conv1 = try XCTUnwrap(c.graph.nodes.firstIndex { $0.name == "conv1" })
        let conv0 = try XCTUnwrap(c.graph.nodes.firstIndex { $0.name == "conv0" })
        for ch in 0..<8 {
            let g = c.analysis.groupOfChannel[conv0]![ch]
            XCTAssertEqual(c.analysis.readers[g].filter { $0.node == conv1 }.map(\.input), [(ch % 4) * 2 + ch / 4], "conv0 channel \(ch)")
        }
    }

    func testShuffleBecomesGatherAndConvStaysGrouped() throws {
        let (model, nodes) = try prune("shuffle_gather_uniform")
        XCTAssertEqual(nodes.filter { $0.opType == "Transpose" }.count, 0)
        let gather = try node(nodes, "shuffle/split")
        XCTAssertEqual(gather.opType, "Gather")
        let indices = try XCTUnwrap(model.graph.initializers.first { $0.name == gather.inputs[1] }).int64s()
        // Kept conv0 channels 0,1,2,3,5,7 (positions 0…5); shuffled order 0,4,1,5,2,6,3,7 minus 4, 6.
        XCTAssertEqual(indices, [0, 1, 4, 2, 3, 5])
        let conv1 = try node(nodes, "conv1")
        XCTAssertEqual(conv1.attribute("group")?.intValue, 2)
        XCTAssertEqual(try weightDims(model, conv1), [6, 3, 1, 1])
    }

    func testShuffleKeptAndConvSplitPerGroup() throws {
        let (model, nodes) = try prune("shuffle_kept_split")
        XCTAssertEqual(nodes.filter { $0.opType == "Transpose" }.count, 1)
        let targets = nodes.filter { $0.opType == "Reshape" }.map { n in model.graph.initializers.first { $0.name == n.inputs[1] }.map { (try? $0.int64s()) ?? [] } ?? [] }
        XCTAssertEqual(targets, [[0, 2, 3, 6, 6], [0, 6, 6, 6]])
        // Both removed channels land in conv1's group 0 (inputs 2, 3): 2 and 4 inputs left.
        XCTAssertEqual(try node(nodes, "conv1").opType, "Concat")
        XCTAssertEqual(try weightDims(model, try node(nodes, "conv1/group0")), [3, 2, 1, 1])
        XCTAssertEqual(try weightDims(model, try node(nodes, "conv1/group1")), [3, 4, 1, 1])
        XCTAssertEqual(try node(nodes, "conv1/group0").attribute("group")?.intValue, 1)
        XCTAssertEqual(nodes.filter { $0.opType == "Gather" }.count, 2)
    }

    func testUniformOutputsKeepBothConvsGrouped() throws {
        let (model, nodes) = try prune("uniform_outputs")
        XCTAssertEqual(try weightDims(model, try node(nodes, "conv1")), [4, 4, 1, 1])
        XCTAssertEqual(try node(nodes, "conv2").attribute("group")?.intValue, 2)
        XCTAssertEqual(try weightDims(model, try node(nodes, "conv2")), [4, 2, 3, 3])
        XCTAssertEqual(nodes.filter { $0.opType == "Gather" || $0.opType == "Concat" }.count, 0)
    }

    func testGroupLosingEveryOutputOrEveryInput() throws {
        let (model, nodes) = try prune("group_emptied")
        // conv1: group 0 has no outputs left: one Conv writes the layer's output, no Concat.
        XCTAssertNil(nodes.first { $0.name == "conv1" })
        XCTAssertEqual(try node(nodes, "conv1/group1").outputs, ["c1"])
        // conv2: group 0 keeps its 2 outputs but reads nothing: a zero filter over one channel.
        let empty = try node(nodes, "conv2/group0")
        let w = try XCTUnwrap(model.graph.initializers.first { $0.name == empty.inputs[1] })
        XCTAssertEqual(w.dims, [2, 1, 3, 3])
        XCTAssertEqual(try w.floats().filter { $0 != 0 }, [])
        XCTAssertEqual(try weightDims(model, try node(nodes, "conv2/group1")), [2, 3, 3, 3])
    }

    func testMixedRemovalAndPruningThePrunedModelAgain() throws {
        let (model, _) = try prune("mixed")
        // The pruned file's Gathers and split Convs are followed too: prune it again.
        let again = try PruningCase(model: model)
        XCTAssertGreaterThan(again.prunableLayerGroups.count, 0)
        let removed = again.randomRemoval(seed: 3)
        XCTAssertFalse(removed.isEmpty)
        let x = try PruningCase.input("grouped/input.npy", limit: 3)
        let twice = try ChannelPruner(model: again.model, graph: again.graph, analysis: again.analysis).pruned(removing: removed)
        let graph = try Importer.importGraph(try ONNXModel.decode(twice.encoded(), externalDataDirectory: nil))
        XCTAssertNil(mismatch(try runGraph(graph, x).storage, try again.maskedOutput(removing: removed, input: x).storage, .relativeToPeak(1e-6)))
    }

    /// Random removals of every prunable layer group: pruned equals masked.
    func testRandomRemovals() throws {
        let (c, x) = try loadCase()
        for seed in UInt64(1)...6 {
            let removed = c.randomRemoval(seed: seed)
            XCTAssertFalse(removed.isEmpty)
            let pruned = try ChannelPruner(model: c.model, graph: c.graph, analysis: c.analysis).pruned(removing: removed)
            let graph = try Importer.importGraph(try ONNXModel.decode(pruned.encoded(), externalDataDirectory: nil))
            XCTAssertNil(mismatch(try runGraph(graph, x).storage, try c.maskedOutput(removing: removed, input: x).storage, .relativeToPeak(1e-6)),
                         "seed \(seed)")
        }
    }

    /// A BatchNormalization between the shuffle and a grouped Conv makes removed channels
    /// non-zero where the Conv reads them: those groups stay blocked, with the reason.
    func testNonZeroReadByGroupedConvIsBlocked() throws {
        var rng = SplitMix64(seed: 11)
        func floats(_ n: Int) -> [Float] { (0..<n).map { _ in Float(Int(rng.next() % 2001) - 1000) / 1000 } }
        let base = try ONNXModel.load(path: FixturePaths.path(Self.model))
        var g = base.graph
        let conv1 = try XCTUnwrap(g.nodes.firstIndex { $0.name == "conv1" })
        g.nodes[conv1].inputs[0] = "s3_bn"
        g.nodes.insert(ONNXNode(name: "bn", opType: "BatchNormalization", inputs: ["s3", "bn_s", "bn_b", "bn_m", "bn_v"], outputs: ["s3_bn"]), at: conv1)
        g.initializers += [ONNXTensor(name: "bn_s", floats: floats(8), dims: [8]), ONNXTensor(name: "bn_b", floats: floats(8), dims: [8]),
                           ONNXTensor(name: "bn_m", floats: floats(8), dims: [8]), ONNXTensor(name: "bn_v", floats: [Float](repeating: 1, count: 8), dims: [8])]
        var model = base
        model.graph = g
        let c = try PruningCase(model: model)
        let conv0 = try XCTUnwrap(c.graph.nodes.firstIndex { $0.name == "conv0" })
        for ch in 0..<8 {
            let group = c.analysis.groups[c.analysis.groupOfChannel[conv0]![ch]]
            XCTAssertFalse(group.prunable, "conv0 channel \(ch)")
            XCTAssertTrue(group.reason?.contains("made non-zero by bn") == true, group.reason ?? "no reason")
        }
        let removed: Set<Int> = [c.analysis.groupOfChannel[conv0]![0]]
        XCTAssertThrowsError(try ChannelPruner(model: c.model, graph: c.graph, analysis: c.analysis).pruned(removing: removed))
    }
}
