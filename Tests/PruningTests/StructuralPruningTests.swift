import ChannelGroups
import NetworkIR
import Pruning
import XCTest

/// Pruning through the structural operators (Fixtures/ops/st_model_structural): channels pass
/// InstanceNormalization (its scale and bias sliced) and a scales-form Resize; an LRN, a Split
/// and a ConvTranspose keep the channels that reach them (docs/plan.md, "Structural operators").
extension PrunedModelTests {
    static let structuralModel = "ops/st_model_structural/model.onnx"

    func testPruningThroughInstanceNormalizationAndResizeEqualsTheMaskedModel() throws {
        try check(Self.structuralModel, input: "ops/st_model_structural/input_0.npy", seeds: [1, 2, 3])
    }

    func testLRNSplitAndConvTransposeKeepTheChannelsThatReachThem() throws {
        let c = try PruningCase(Self.structuralModel)
        var prunable: [String: Bool] = [:]
        for group in c.analysis.groups {
            for m in group.members { prunable[c.graph.nodes[m.producer].name] = group.prunable }
        }
        XCTAssertEqual(prunable, ["conv1": true, "conv2": false, "conv3": false, "conv4": false, "fc": false])
        let tails = try c.graph.channelTails()
        let conv1 = try XCTUnwrap(tails.first { c.graph.nodes[$0.producer].name == "conv1" })
        XCTAssertEqual(conv1.nodes.map { c.graph.nodes[$0].name }, ["inorm1", "relu1"], "the tail runs past InstanceNormalization")
        // A group the analysis blocks is refused by the pruner with its reason.
        let blocked = try XCTUnwrap(c.analysis.groups.firstIndex { g in g.members.contains { c.graph.nodes[$0.producer].name == "conv2" } })
        XCTAssertThrowsError(try ChannelPruner(model: c.model, graph: c.graph, analysis: c.analysis).pruned(removing: [blocked])) { error in
            XCTAssert("\(error)".contains("not prunable"), "\(error)")
        }
    }
}
