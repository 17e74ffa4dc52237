import ChannelGroups
import Execution
import NetworkIR
import ONNXFormat
import Pruning
import TestSupport
import XCTest

/// Prune seeded random channel sets, re-import the written bytes with our importer, and compare
/// the outputs with the masked original (the removed channels zeroed at their producers' tail
/// ends): max |diff| ≤ 1e-4 × max |logit|. The cost of the pruned model must match the cost
/// computed independently from the removed channels.
final class PrunedModelTests: XCTestCase {
    func check(_ relative: String, input: String, seeds: [UInt64] = [1], batch: Int = 2, file: StaticString = #filePath, line: UInt = #line) throws {
        let c = try PruningCase(relative)
        let x = try PruningCase.input(input, limit: batch)
        XCTAssertFalse(c.prunableLayerGroups.isEmpty, "\(relative): no prunable layer group", file: file, line: line)
        for seed in seeds {
            let removed = c.randomRemoval(seed: seed)
            XCTAssertFalse(removed.isEmpty, file: file, line: line)
            let pruned = try ChannelPruner(model: c.model, graph: c.graph, analysis: c.analysis).pruned(removing: removed)
            let reread = try ONNXModel.decode(pruned.encoded(), externalDataDirectory: nil)
            let graph = try Importer.importGraph(reread)
            let got = try runGraph(graph, x)
            let expected = try c.maskedOutput(removing: removed, input: x)
            // The removal must matter, or the comparison proves nothing.
            XCTAssertNotNil(mismatch(try runGraph(c.graph, x).storage, expected.storage, .relativeToPeak(1e-3)),
                            "\(relative): removing \(removed.count) groups did not change the outputs", file: file, line: line)
            XCTAssertEqual(got.shape, expected.shape, file: file, line: line)
            if let m = mismatch(got.storage, expected.storage, .relativeToPeak(1e-4)) {
                XCTFail("\(relative) seed \(seed): \(m)", file: file, line: line)
            }
            XCTAssertEqual(reread.graph.nodes.map(\.name), c.model.graph.nodes.map(\.name), file: file, line: line)
            XCTAssertEqual(reread.opsetImports, c.model.opsetImports, file: file, line: line)
            try checkCost(c, removed: removed, pruned: graph, file: file, line: line)
        }
    }

    /// Conv, Gemm and MatMul costs recomputed from the removed channels: output channels from
    /// `groupOfChannel`, input channels (or features) from the groups' readers.
    func checkCost(_ c: PruningCase, removed: Set<Int>, pruned: Graph, file: StaticString, line: UInt) throws {
        let before = try c.graph.cost(batch: 1)
        let after = try pruned.cost(batch: 1)
        var readsRemoved: [Int: Int] = [:]
        for g in removed { for r in c.analysis.readers[g] { readsRemoved[r.node, default: 0] += 1 } }
        let shapes = try c.graph.inferShapes(batch: 1)
        var expectedMACs = 0, actualMACs = 0
        for (index, node) in c.graph.nodes.enumerated() {
            guard c.graph.isChannelProducer(node) else {
                // Other layers with MACs (ConvTranspose) lose no channels: pruning stops before them.
                expectedMACs += before.layers.first { $0.name == node.name }?.macs ?? 0
                continue
            }
            let groupOf = c.analysis.groupOfChannel[index] ?? []
            let outKept = groupOf.filter { !removed.contains($0) }.count
            let w = c.graph.constants[node.inputs[1]]!.shape
            let out = shapes[node.outputs[0]]!
            let spatial = out.dropFirst(2).reduce(1, *)
            var params = 0, macs = 0
            switch node.op {
            case .conv(let a):
                let inPerGroup = a.groups > 1 ? w[1] : w[1] - (readsRemoved[index] ?? 0)
                params = outKept * inPerGroup * w[2] * w[3] + (node.inputs.count > 2 ? outKept : 0)
                macs = outKept * inPerGroup * w[2] * w[3] * spatial
            case .gemm(_, _, _, let transB):
                let k = (transB ? w[1] : w[0]) - (readsRemoved[index] ?? 0)
                let bias = node.inputs.count > 2 ? (c.graph.constants[node.inputs[2]]?.count ?? 0) : 0
                params = outKept * k + (bias > 1 ? outKept : bias)
                macs = outKept * k
            default:
                let k = w[0] - (readsRemoved[index] ?? 0)
                params = outKept * k
                macs = outKept * k
            }
            let layer = try XCTUnwrap(after.layers.first { $0.name == node.name }, "no layer \(node.name) in the pruned model", file: file, line: line)
            XCTAssertEqual(layer.params, params, "params of \(node.name)", file: file, line: line)
            XCTAssertEqual(layer.macs, macs, "MACs of \(node.name)", file: file, line: line)
            expectedMACs += macs
            actualMACs += layer.macs
        }
        XCTAssertEqual(after.macs, expectedMACs, file: file, line: line)
        XCTAssertLessThan(after.params, before.params, file: file, line: line)
    }

    func testTinyResNet() throws { try check("models/tiny_resnet.onnx", input: "models/tiny_resnet.input.npy", seeds: [1, 2, 3], batch: 4) }
    func testTinyConcat() throws { try check("models/tiny_concat.onnx", input: "models/tiny_concat.input.npy", seeds: [1, 2, 3], batch: 4) }
    func testTinyMobileNet() throws { try check("models/tiny_mobilenet.onnx", input: "models/tiny_mobilenet.input.npy", seeds: [1, 2, 3], batch: 4) }
    func testSqueezeNet() throws { try check("models/squeezenet1_1.onnx", input: "models/squeezenet1_1.input.npy") }
    func testMobileNetV3Small() throws { try check("models/mobilenet_v3_small.onnx", input: "models/mobilenet_v3_small.input.npy") }
    func testResNet18WithBatchNorm() throws { try check("models/resnet18_bn.onnx", input: "models/resnet18_bn.input.npy") }
    func testResNet18Folded() throws { try check("models/resnet18.onnx", input: "models/resnet18.input.npy") }
    func testMobileNetV2() throws { try check("models/mobilenet_v2.onnx", input: "models/mobilenet_v2.input.npy") }
    /// Keras exports: NHWC input, tf2onnx-style Transposes and Reshapes.
    func testKerasNHWC() throws { try check("models/keras_nhwc_cnn.onnx", input: "models/keras_nhwc_cnn.input.npy", seeds: [1, 2], batch: 4) }
    func testKerasTf2onnxStyle() throws { try check("models/keras_tf2onnx_style.onnx", input: "models/keras_tf2onnx_style.input.npy", seeds: [1, 2], batch: 4) }
    func testEfficientNetLite0() throws { try check("demo/efficientnet_lite0.onnx", input: "demo/images.input.npy") }

    /// Issue 15: the NHWC ResNet as PyTorch exports it (a Transpose on each side of every Conv,
    /// BatchNormalization written as Sub/Div/Mul/Add by (C) constants on the NHWC tensor) prunes
    /// like the tf2onnx export of the same network (one Transpose at the input).
    func testNHWCResNetExportedByPyTorch() throws {
        try check("classic/resnet_nhwc_torch.onnx", input: "classic/resnet_nhwc_torch.input.npy", seeds: [1, 2, 3], batch: 4)
    }

    func testNHWCResNetExportedByTf2onnx() throws {
        try check("classic/resnet_nhwc_tf2onnx.onnx", input: "classic/resnet_nhwc_tf2onnx.input.npy", seeds: [1, 2], batch: 4)
    }

    /// Both exports of the same network have the same dependency groups: as many prunable layer
    /// groups, with the same channel counts, and every Conv's channels in a prunable group.
    func testNHWCExportsHaveTheSameGroups() throws {
        let torch = try PruningCase("classic/resnet_nhwc_torch.onnx")
        let tf = try PruningCase("classic/resnet_nhwc_tf2onnx.onnx")
        let torchGroups = torch.prunableLayerGroups.map(\.channels), tfGroups = tf.prunableLayerGroups.map(\.channels)
        XCTAssertFalse(torchGroups.isEmpty)
        XCTAssertEqual(torchGroups, tfGroups)
        XCTAssertEqual(torch.analysis.groups.filter(\.prunable).count, tf.analysis.groups.filter(\.prunable).count)
        XCTAssertEqual(torch.analysis.groups.count, tf.analysis.groups.count)
        // Every Conv's tail in the PyTorch export runs through the Transpose after it and the
        // written-out BatchNormalization. Where the tail has one reader all the way to the next
        // Conv (each block's first Conv) it also runs through that Conv's Transpose back to axis 1;
        // the other five (stem, second Convs, downsample) end on the NHWC tensor read by a residual
        // Add: channels on axis 3.
        let tails = try torch.graph.channelTails()
        let convTails = tails.filter { if case .conv = torch.graph.nodes[$0.producer].op { return true } else { return false } }
        XCTAssertEqual(convTails.count, 8)
        for t in convTails {
            let ops = t.nodes.map { torch.graph.nodes[$0].op.onnxName }
            XCTAssertEqual(Array(ops.prefix(5)), ["Transpose", "Sub", "Div", "Mul", "Add"], torch.graph.nodes[t.producer].name)
        }
        XCTAssertEqual(convTails.filter { $0.axis == 3 }.count, 5)
        XCTAssertEqual(convTails.filter { $0.axis == 1 }.count, 3)
    }
}

