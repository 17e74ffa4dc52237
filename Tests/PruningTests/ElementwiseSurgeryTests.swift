import ChannelGroups
import NetworkIR
import ONNXFormat
import Pruning
import XCTest

/// Pruning through the element-wise operators: PRelu's per-channel slope is sliced with the
/// channels, Elu/Selu/Sum/Max(x, 0) carry a removed channel as zero, and a function that makes
/// zero non-zero after a merge (Softplus) is refused by name.
extension SurgeryTests {
    func elementwiseModel(after merge: ONNXNode, extra: [ONNXNode] = [], initializers extraInitializers: [ONNXTensor] = []) -> ONNXModel {
        let wa = ONNXTensor(name: "wa", floats: randomFloats(4 * 27), dims: [4, 3, 3, 3])
        let wb = ONNXTensor(name: "wb", floats: randomFloats(4 * 27), dims: [4, 3, 3, 3])
        let wc = ONNXTensor(name: "wc", floats: randomFloats(2 * 36), dims: [2, 4, 3, 3])
        let slope = ONNXTensor(name: "slope", floats: [0.1, -0.2, 0.3, 0.25], dims: [1, 4, 1, 1])
        return model(nodes: [
            conv("a", "x", "wa", "ya"),
            ONNXNode(name: "prelu", opType: "PRelu", inputs: ["ya", "slope"], outputs: ["pa"]),
            ONNXNode(name: "elu", opType: "Elu", inputs: ["pa"], outputs: ["ea"], attributes: [ONNXAttribute(name: "alpha", value: .float(0.5))]),
            conv("b", "x", "wb", "yb"),
            ONNXNode(name: "selu", opType: "Selu", inputs: ["yb"], outputs: ["sb"]),
            merge,
        ] + extra + [conv("c", "t", "wc", "out")], initializers: [wa, wb, wc, slope] + extraInitializers, output: "out")
    }

    func testPReluSlopeIsSlicedAndVariadicMergeCarriesZero() throws {
        let zero = ONNXTensor(name: "zero", floats: [0], dims: [])
        let m = elementwiseModel(after: ONNXNode(name: "sum", opType: "Sum", inputs: ["ea", "sb"], outputs: ["s"]),
                                 extra: [ONNXNode(name: "relu", opType: "Max", inputs: ["s", "zero"], outputs: ["t"])],
                                 initializers: [zero])
        let c = try PruningCase(model: try ONNXModel.decode(m.encoded(), externalDataDirectory: nil))
        let tails = try c.graph.channelTails()
        let a = try XCTUnwrap(c.graph.node(named: "a"))
        let tailOfA = try XCTUnwrap(tails.first { $0.producer == a })
        XCTAssertEqual(tailOfA.nodes.map { c.graph.nodes[$0].op.onnxName }, ["PRelu", "Elu"])
        let b = try XCTUnwrap(c.graph.node(named: "b"))
        XCTAssertEqual(c.analysis.groupOfChannel[a], c.analysis.groupOfChannel[b], "Sum ties a's and b's channels")
        let pruned = try pruneAndCompare(m) { analysis, graph in
            let a = graph.node(named: "a")!
            return [analysis.groupOfChannel[a]![1], analysis.groupOfChannel[a]![3]]
        }
        let inits = Dictionary(uniqueKeysWithValues: pruned.graph.initializers.map { ($0.name, $0) })
        XCTAssertEqual(inits["slope"]?.dims, [1, 2, 1, 1])
        XCTAssertEqual(try inits["slope"]?.floats(), [0.1, 0.3])
    }

    func testSoftplusAfterMergeIsRefused() throws {
        let m = elementwiseModel(after: ONNXNode(name: "sum", opType: "Sum", inputs: ["ea", "sb"], outputs: ["s"]),
                                 extra: [ONNXNode(name: "softplus", opType: "Softplus", inputs: ["s"], outputs: ["t"])])
        let c = try PruningCase(model: try ONNXModel.decode(m.encoded(), externalDataDirectory: nil))
        let a = try XCTUnwrap(c.graph.node(named: "a"))
        XCTAssertThrowsError(try ChannelPruner(model: c.model, graph: c.graph, analysis: c.analysis).pruned(removing: [c.analysis.groupOfChannel[a]![0]])) { error in
            XCTAssertTrue("\(error)".contains("not zero in the masked model"), "\(error)")
            XCTAssertTrue("\(error)".contains("softplus"), "\(error)")
        }
    }
}
