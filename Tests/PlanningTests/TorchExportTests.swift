import ChannelGroups
import Foundation
import Influence
import NetworkIR
import ONNXFormat
import Planning
import Pruning
import Support
import TestSupport
import XCTest

/// The ONNX → nn.Module mapping of `--export-torch` on a tiny model exported by both
/// torch.onnx.export paths (Fixtures/scripts/make_torch_bridge_fixtures.py): every layer named as
/// the forward hooks recorded, the channels the ONNX pruner drops, and refusal when nothing in the
/// file names a module. Tests/Bridges/torch_bridge.py checks the same end to end with Torch-Pruning.
final class TorchExportTests: XCTestCase {
    struct Loaded {
        var model: ONNXModel
        var graph: Graph
        var analysis: DependencyAnalysis
        var export: TorchExport
    }

    func load(_ name: String) throws -> Loaded {
        let model = try ONNXModel.load(path: FixturePaths.path("torch_bridge/\(name).onnx"))
        let graph = try Importer.importGraph(model)
        let analysis = try DependencyAnalysis(graph: graph)
        return Loaded(model: model, graph: graph, analysis: analysis,
                      export: TorchExport(model: model, graph: graph, analysis: analysis, layerGroups: analysis.layerGroups()))
    }

    /// The module paths the fixture script recorded, per export: ONNX node name → module.
    func expectedModules(_ name: String) throws -> [String: String] {
        let json = try JSONValue.parse(String(contentsOfFile: FixturePaths.path("torch_bridge/modules.json"), encoding: .utf8))
        let object = try XCTUnwrap(json[name]?.objectValue)
        return object.compactMapValues(\.stringValue)
    }

    func testEveryLayerOfBothExportsIsNamedAsTheForwardPassCalledIt() throws {
        for (name, source) in [("tiny_torchscript", TorchModulePaths.Source.nodeName), ("tiny_dynamo", .initializer)] {
            let s = try load(name)
            let expected = try expectedModules(name)
            let paths = TorchModulePaths(model: s.model)
            let layers = s.graph.nodes.filter { s.graph.isChannelProducer($0) }
            XCTAssertEqual(Set(layers.map(\.name)), Set(expected.keys), name)
            for node in layers {
                let mapping = try paths.module(of: node, in: s.graph)
                XCTAssertEqual(mapping.module, expected[node.name], "\(name): \(node.name)")
                if case .conv = node.op {
                    // BN was folded into every convolution: one place is left to name it.
                    XCTAssertEqual(mapping.sources, [source], "\(name): \(node.name)")
                } else {
                    // The Linear kept its weight name and its own scope: two places, which agree.
                    XCTAssertEqual(mapping.sources.count, 2, "\(name): \(node.name)")
                    XCTAssertTrue(mapping.sources.contains(.initializer), "\(name): \(node.name)")
                }
            }
        }
    }

    /// Each entry removes exactly the output channels `ChannelSelection` (the ONNX pruner) drops
    /// from the layer it names, and the module is the one that layer came from.
    func testEntriesRemoveWhatTheONNXPrunerRemoves() throws {
        let s = try load("tiny_torchscript")
        let expected = try expectedModules("tiny_torchscript")
        let groups = s.analysis.layerGroups()
        // Every other channel of every prunable layer group whose channels do not reach the output.
        var removed = Set<Int>()
        for lg in groups where lg.dependencyGroups.allSatisfy({ s.analysis.groups[$0].prunable }) {
            removed.formUnion(lg.dependencyGroups.enumerated().filter { $0.offset % 2 == 1 }.map(\.element))
        }
        let selection = try ChannelSelection(graph: s.graph, analysis: s.analysis, removing: removed)
        let document = try s.export.torchDocument(removing: removed)
        XCTAssertEqual(document["schema"]?.stringValue, TorchExport.schema)
        let entries = try XCTUnwrap(document["groups"]?.arrayValue)
        XCTAssertEqual(entries.count, groups.filter { $0.dependencyGroups.contains(where: removed.contains) }.count)
        XCTAssertGreaterThanOrEqual(entries.count, 4, "the residual, expand, project and head groups")
        for entry in entries {
            let layer = try XCTUnwrap(entry["layer"]?.stringValue)
            let node = try XCTUnwrap(s.graph.nodes.first { $0.name == layer })
            XCTAssertEqual(entry["module"]?.stringValue, expected[layer])
            let channels = try XCTUnwrap(selection.channels[node.outputs[0]])
            let kept = try XCTUnwrap(selection.kept[node.outputs[0]], layer)
            let dropped = (0 ..< channels).filter { !kept.contains($0) }
            XCTAssertEqual(entry["remove"]?.arrayValue?.compactMap(\.intValue), dropped, layer)
            XCTAssertEqual(entry["channels"]?.intValue, channels, layer)
            XCTAssertEqual(entry["pruneFn"]?.stringValue, node.name.hasSuffix("Gemm") ? "prune_linear_out_channels" : "prune_conv_out_channels")
        }
        // The residual block's group names the stem (its first non-depthwise producer), and no
        // entry names a depthwise convolution while another layer of its group can be named.
        XCTAssertTrue(entries.contains { $0["module"]?.stringValue == "features.0.0" })
        XCTAssertFalse(entries.contains { $0["module"]?.stringValue == "features.2.conv.1.0" })

        let nni = try XCTUnwrap(try s.export.nniConfigList(removing: removed).arrayValue)
        let residual = nni.filter { ["features.0.0", "features.1.conv2"].contains($0["op_names"]?.arrayValue?.first?.stringValue ?? "") }
        XCTAssertEqual(residual.count, 2, "both layers of the residual stream")
        XCTAssertEqual(Set(residual.compactMap { $0["dependency_group_id"]?.intValue }).count, 1, "tied by one dependency group")
        XCTAssertEqual(residual.first?["sparse_ratio"]?.doubleValue, 0.5)
    }

    /// Torch-Pruning renumbers a module after each pruning: a later entry on the same module
    /// counts only the channels left.
    func testLaterEntriesOnOneModuleAreRenumbered() {
        XCTAssertEqual(TorchExport.renumbered([2, 5, 9], after: [0, 3, 4, 8]), [1, 2, 5])
        XCTAssertEqual(TorchExport.renumbered([1, 2], after: []), [1, 2])
    }

    func testNamesThatAreNotModulePathsAreRefused() {
        XCTAssertEqual(TorchModulePaths.moduleOfParameter("layer1.0.conv1.weight"), "layer1.0.conv1")
        XCTAssertNil(TorchModulePaths.moduleOfParameter("onnx::Conv_193"))
        XCTAssertNil(TorchModulePaths.moduleOfParameter("layer1.0.conv1.bias"))
        XCTAssertNil(TorchModulePaths.moduleOfParameter("a..b.weight"))
        XCTAssertEqual(try? TorchModulePaths.moduleOfScope("/features/features.1/conv/conv.0/conv.0.0/Conv", opType: "Conv").get(),
                       "features.1.conv.0.0")
        XCTAssertEqual(try? TorchModulePaths.moduleOfScope("/layer1/layer1.0/conv1/Conv_2", opType: "Conv").get(), "layer1.0.conv1")
        // A scope that is not the child of the one before, an operator that is not the node's,
        // a node in the root module.
        XCTAssertNil(try? TorchModulePaths.moduleOfScope("/layer1/layer2.0/conv1/Conv", opType: "Conv").get())
        XCTAssertNil(try? TorchModulePaths.moduleOfScope("/layer1/conv1/Relu", opType: "Conv").get())
        XCTAssertNil(try? TorchModulePaths.moduleOfScope("/Conv", opType: "Conv").get())
        // Dynamo metadata after BN folding names the BatchNorm2d: not trusted.
        let fused = [ONNXMetadataEntry(key: "pkg.torch.onnx.name_scopes", value: "['', 'layer1', 'layer1.0.bn1', 'bn']"),
                     ONNXMetadataEntry(key: "pkg.torch.onnx.class_hierarchy",
                                       value: "['M', 'torch.nn.modules.container.Sequential', 'torch.nn.modules.batchnorm.BatchNorm2d', 'aten.x']")]
        XCTAssertNil(try? TorchModulePaths.moduleOfMetadata(fused).get())
        var conv = fused
        conv[1].value = "['M', 'torch.nn.modules.container.Sequential', 'torch.nn.modules.conv.Conv2d', 'aten.x']"
        conv[0].value = "['', 'layer1', 'layer1.0.conv1', 'conv2d']"
        XCTAssertEqual(try? TorchModulePaths.moduleOfMetadata(conv).get(), "layer1.0.conv1")
    }

    /// Every node renamed `n0, n1, …` and BN folded into `onnx::Conv_N` weights: nothing names a
    /// module, and the export says which layer and why instead of guessing.
    func testAnExportWithoutModuleNamesIsRefusedNamingTheLayer() throws {
        let s = try load("tiny_renamed")
        let removed = Set(s.analysis.layerGroups()[0].dependencyGroups.prefix(1))
        XCTAssertThrowsError(try s.export.torchDocument(removing: removed)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("node n0 (Conv)"), text)
            XCTAssertTrue(text.contains("onnx::Conv_"), text)
            XCTAssertTrue(text.contains("not a TorchScript module scope"), text)
        }
        XCTAssertThrowsError(try s.export.nniConfigList(removing: removed))
    }
}
