import ChannelGroups
import Execution
import NetworkIR
import ONNXFormat
import Pruning
import TestSupport
import XCTest

/// An MTCNN R-Net-style network exported by PyTorch at opset 9 (Fixtures/models/
/// ew_rnet_prelu_opset9.onnx, make_ops_elementwise.py): PRelu after every Conv (slope (C,1,1))
/// and after the hidden Gemm (slope (C)). It runs equal to ONNX Runtime, every producer's
/// channel tail includes its PRelu, and a random pruning equals the masked model with each
/// PRelu slope sliced to the surviving channels.
final class PReluNetworkTests: XCTestCase {
    let model = "models/ew_rnet_prelu_opset9.onnx"

    func testRunsEqualToONNXRuntime() throws {
        let c = try PruningCase(model)
        let x = try PruningCase.input("models/ew_rnet_prelu_opset9.input.npy", limit: 6)
        XCTAssertEqual(x.shape, [6, 3, 24, 24])
        let expected = try PruningCase.input("models/ew_rnet_prelu_opset9.logits.npy", limit: 6)
        XCTAssertNil(mismatch(try runGraph(c.graph, x).storage, expected.storage, .relativeToPeak(1e-4)))
    }

    func testEveryProducerTailHoldsItsPRelu() throws {
        let c = try PruningCase(model)
        let tails = try c.graph.channelTails()
        XCTAssertEqual(tails.count, 5)
        for tail in tails.prefix(4) {
            XCTAssertEqual(tail.nodes.map { c.graph.nodes[$0].op.onnxName }, ["PRelu"], c.graph.nodes[tail.producer].name)
        }
        XCTAssertEqual(c.prunableLayerGroups.count, 4, "three Convs and the hidden Gemm")
    }

    func testRandomPruningEqualsTheMaskedModelAndSlicesTheSlopes() throws {
        let c = try PruningCase(model)
        let x = try PruningCase.input("models/ew_rnet_prelu_opset9.input.npy", limit: 6)
        for seed: UInt64 in [1, 2] {
            let removed = c.randomRemoval(seed: seed)
            XCTAssertFalse(removed.isEmpty)
            let pruned = try ChannelPruner(model: c.model, graph: c.graph, analysis: c.analysis).pruned(removing: removed)
            let graph = try Importer.importGraph(try ONNXModel.decode(pruned.encoded(), externalDataDirectory: nil))
            let expected = try c.maskedOutput(removing: removed, input: x)
            XCTAssertNil(mismatch(try runGraph(graph, x).storage, expected.storage, .relativeToPeak(1e-4)), "seed \(seed)")
            let original = Dictionary(uniqueKeysWithValues: c.model.graph.initializers.map { ($0.name, $0.dims) })
            let slopes = pruned.graph.nodes.filter { $0.opType == "PRelu" }.map { $0.inputs[1] }
            XCTAssertEqual(slopes.count, 4)
            let inits = Dictionary(uniqueKeysWithValues: pruned.graph.initializers.map { ($0.name, $0.dims) })
            let shrunk = slopes.filter { inits[$0]?.first ?? 0 < original[$0]?.first ?? 0 }
            XCTAssertEqual(shrunk.count, 4, "every PRelu slope loses the channels its producer lost (seed \(seed))")
        }
    }
}
