import ChannelGroups
import Execution
import Influence
import NetworkIR
import ONNXFormat
import Pruning
import Support
import TestSupport
import XCTest

/// Small graphs built here for the rewrites the committed models do not exercise: a weight
/// shared by two convolutions that lose different channels (cloned), a Reshape target that
/// hard-codes the channel count (rewritten), and a removed channel made non-zero after a merge
/// (refused).
final class SurgeryTests: XCTestCase {
    var rng = SplitMix64(seed: 7)

    func randomFloats(_ n: Int) -> [Float] {
        (0..<n).map { _ in Float(Int(rng.next() % 2001) - 1000) / 1000 }
    }

    func conv(_ name: String, _ x: String, _ w: String, _ out: String, kernel: Int = 3) -> ONNXNode {
        ONNXNode(name: name, opType: "Conv", inputs: [x, w], outputs: [out], attributes: [
            ONNXAttribute(name: "kernel_shape", value: .ints([Int64(kernel), Int64(kernel)])),
            ONNXAttribute(name: "pads", value: .ints(Array(repeating: Int64(kernel / 2), count: 4))),
        ])
    }

    func model(nodes: [ONNXNode], initializers: [ONNXTensor], output: String) -> ONNXModel {
        ONNXModel(graph: ONNXGraph(
            name: "g", nodes: nodes, initializers: initializers,
            inputs: [ONNXValueInfo(name: "x", elementType: .float, shape: [.symbolic("N"), .value(3), .value(8), .value(8)])],
            outputs: [ONNXValueInfo(name: output, elementType: .float)]))
    }

    /// Prunes `removed` (dependency groups chosen by `pick`) and compares with the masked model.
    func pruneAndCompare(_ m: ONNXModel, pick: (DependencyAnalysis, Graph) -> Set<Int>) throws -> ONNXModel {
        let bytes = m.encoded()
        let c = try PruningCase(model: try ONNXModel.decode(bytes, externalDataDirectory: nil))
        let removed = pick(c.analysis, c.graph)
        let pruned = try ChannelPruner(model: c.model, graph: c.graph, analysis: c.analysis).pruned(removing: removed)
        let graph = try Importer.importGraph(try ONNXModel.decode(pruned.encoded(), externalDataDirectory: nil))
        let x = Tensor(shape: [2, 3, 8, 8], storage: (0..<384).map { Float(($0 * 37) % 101) / 50 - 1 })
        let expected = try c.maskedOutput(removing: removed, input: x)
        XCTAssertNotNil(mismatch(try runGraph(c.graph, x).storage, expected.storage, .relativeToPeak(1e-3)))
        XCTAssertNil(mismatch(try runGraph(graph, x).storage, expected.storage, .relativeToPeak(1e-4)))
        return pruned
    }

    func testSharedWeightIsClonedAndReshapeTargetRewritten() throws {
        let w = ONNXTensor(name: "w", floats: randomFloats(4 * 3 * 9), dims: [4, 3, 3, 3])
        let fc = ONNXTensor(name: "fc", floats: randomFloats(5 * 512), dims: [5, 512])
        let shape = ONNXTensor(name: "shape", int64s: [-1, 512], dims: [2])
        let m = model(nodes: [
            conv("a", "x", "w", "ya"),
            conv("b", "x", "w_alias", "yb"),
            ONNXNode(name: "alias", opType: "Identity", inputs: ["w"], outputs: ["w_alias"]),
            ONNXNode(name: "cat", opType: "Concat", inputs: ["ya", "yb"], outputs: ["y"], attributes: [ONNXAttribute(name: "axis", value: .int(1))]),
            ONNXNode(name: "relu", opType: "Relu", inputs: ["y"], outputs: ["r"]),
            ONNXNode(name: "flat", opType: "Reshape", inputs: ["r", "shape"], outputs: ["f"]),
            ONNXNode(name: "fc", opType: "Gemm", inputs: ["f", "fc"], outputs: ["logits"], attributes: [ONNXAttribute(name: "transB", value: .int(1))]),
        ], initializers: [w, fc, shape], output: "logits")
        let pruned = try pruneAndCompare(m) { analysis, graph in
            let a = graph.node(named: "a")!, b = graph.node(named: "b")!
            return Set([analysis.groupOfChannel[a]![1], analysis.groupOfChannel[a]![3], analysis.groupOfChannel[b]![0]])
        }
        let inits = Dictionary(uniqueKeysWithValues: pruned.graph.initializers.map { ($0.name, $0) })
        XCTAssertEqual(try inits["shape"]?.int64s(), [-1, 320])
        XCTAssertEqual(inits["fc"]?.dims, [5, 320])
        let convWeights = pruned.graph.nodes.filter { $0.opType == "Conv" }.map { inits[$0.inputs[1]]?.dims }
        XCTAssertEqual(convWeights, [[2, 3, 3, 3], [3, 3, 3, 3]])
    }

    func testNonZeroAfterMergeIsRefused() throws {
        let wa = ONNXTensor(name: "wa", floats: randomFloats(4 * 27), dims: [4, 3, 3, 3])
        let wb = ONNXTensor(name: "wb", floats: randomFloats(4 * 27), dims: [4, 3, 3, 3])
        let wc = ONNXTensor(name: "wc", floats: randomFloats(2 * 36), dims: [2, 4, 3, 3])
        let bias = ONNXTensor(name: "bias", floats: [0.5, -0.25, 1, 2], dims: [1, 4, 1, 1])
        let m = model(nodes: [
            conv("a", "x", "wa", "ya"),
            conv("b", "x", "wb", "yb"),
            ONNXNode(name: "sum", opType: "Add", inputs: ["ya", "yb"], outputs: ["s"]),
            ONNXNode(name: "shift", opType: "Add", inputs: ["s", "bias"], outputs: ["t"]),
            conv("c", "t", "wc", "out"),
        ], initializers: [wa, wb, wc, bias], output: "out")
        let c = try PruningCase(model: try ONNXModel.decode(m.encoded(), externalDataDirectory: nil))
        let a = c.graph.node(named: "a")!
        XCTAssertThrowsError(try ChannelPruner(model: c.model, graph: c.graph, analysis: c.analysis).pruned(removing: [c.analysis.groupOfChannel[a]![0]])) { error in
            XCTAssertTrue("\(error)".contains("not zero in the masked model"), "\(error)")
            XCTAssertTrue("\(error)".contains("shift"), "\(error)")
        }
        // Without the constant shift the same removal is exact.
        var plain = m
        plain.graph.nodes.remove(at: 3)
        plain.graph.nodes[3].inputs[0] = "s"
        plain.graph.initializers.removeLast()
        _ = try pruneAndCompare(plain) { analysis, graph in [analysis.groupOfChannel[graph.node(named: "a")!]![0]] }
    }

    func testComputedPerChannelConstantIsRefused() throws {
        let wa = ONNXTensor(name: "wa", floats: randomFloats(4 * 27), dims: [4, 3, 3, 3])
        let wc = ONNXTensor(name: "wc", floats: randomFloats(2 * 36), dims: [2, 4, 3, 3])
        let scale = ONNXTensor(name: "scale", floats: [0.5, 2, 1.5, 3], dims: [4])
        let axes = ONNXTensor(name: "axes", int64s: [1, 2], dims: [2])
        let m = model(nodes: [
            conv("a", "x", "wa", "ya"),
            ONNXNode(name: "unsq", opType: "Unsqueeze", inputs: ["scale", "axes"], outputs: ["scale3"]),
            ONNXNode(name: "scaled", opType: "Mul", inputs: ["ya", "scale3"], outputs: ["s"]),
            conv("c", "s", "wc", "out"),
        ], initializers: [wa, wc, scale, axes], output: "out")
        let c = try PruningCase(model: try ONNXModel.decode(m.encoded(), externalDataDirectory: nil))
        let a = c.graph.node(named: "a")!
        XCTAssertThrowsError(try ChannelPruner(model: c.model, graph: c.graph, analysis: c.analysis).pruned(removing: [c.analysis.groupOfChannel[a]![1]])) { error in
            XCTAssertTrue("\(error)".contains("computed by node unsq (Unsqueeze)"), "\(error)")
        }
    }
}
