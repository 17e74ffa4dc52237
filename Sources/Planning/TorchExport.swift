import ChannelGroups
import NetworkIR
import ONNXFormat
import Pruning
import Support

/// A plan translated to the PyTorch module it was exported from (docs/pytorch.md), so that the
/// same channels can be removed from the nn.Module and the model fine-tuned in PyTorch.
///
/// `--export-torch` (schema `weakspot.torch-prune/1`): one entry per layer group that loses
/// channels, naming one Conv or Linear module of the group and the output channels to remove.
/// Applying each entry in order with Torch-Pruning
/// (`DG.get_pruning_group(module, tp.<pruneFn>, idxs=remove).prune()`) removes from the module
/// what `weakspot prune` removes from the ONNX model: Torch-Pruning's group of that module is the
/// dependency group WeakSpot measured, and the indices are the ones the ONNX pruner drops
/// (`ChannelSelection`: channel j of a producer goes when its dependency group is removed).
///
/// Torch-Pruning renumbers a module's channels after each pruning, so an entry's indices are
/// those left by the entries before it; `channels` is the module's output-channel count at that
/// moment, for the script to check it pruned the module the plan meant.
///
/// `--export-nni`: NNI's `config_list`, one item per pruned layer, with the fraction of its
/// output channels WeakSpot removes and a `dependency_group_id` tying the layers of a residual
/// stream. NNI chooses the channels itself (by its own metric), so it reproduces the plan's
/// per-layer widths, not its channels.
public struct TorchExport {
    public static let schema = "weakspot.torch-prune/1"

    let graph: Graph
    let analysis: DependencyAnalysis
    let layerGroups: [LayerGroup]
    let paths: TorchModulePaths

    public init(model: ONNXModel, graph: Graph, analysis: DependencyAnalysis, layerGroups: [LayerGroup]) {
        self.graph = graph
        self.analysis = analysis
        self.layerGroups = layerGroups
        self.paths = TorchModulePaths(model: model)
    }

    /// The `weakspot.torch-prune/1` document for removing the dependency groups `removed`.
    ///
    /// - Throws: `PruningError` naming the layer when no Conv/Linear member of a pruned group has
    ///   a module path in the ONNX file (docs/pytorch.md, "Limits").
    public func torchDocument(removing removed: Set<Int>) throws(PruningError) -> JSONValue {
        try refuseGroupedOrShuffled(removed)
        var removedSoFar: [Int: Set<Int>] = [:]
        var entries: [JSONValue] = []
        for group in layerGroups where group.dependencyGroups.contains(where: removed.contains) {
            let (producer, mapping) = try namedProducer(of: group)
            let lost = removedChannels(of: producer, removing: removed)
            let earlier = removedSoFar[producer] ?? []
            let total = analysis.groupOfChannel[producer]?.count ?? 0
            let shifted = Self.renumbered(lost, after: earlier)
            entries.append(.object([
                "module": .string(mapping.module), "remove": .array(shifted.map { .int($0) }),
                "pruneFn": .string(isLinear(producer) ? "prune_linear_out_channels" : "prune_conv_out_channels"),
                "channels": .int(total - earlier.count), "layer": .string(graph.nodes[producer].name),
                "layerGroup": .int(group.id), "nameFrom": .array(mapping.sources.map { .string($0.rawValue) }),
            ]))
            for p in group.producers { removedSoFar[p, default: []].formUnion(removedChannels(of: p, removing: removed)) }
        }
        return .object([
            "schema": .string(Self.schema), "groups": .array(entries),
            "note": .string("Apply the groups in order: each one's indices are those left by the groups before it (docs/pytorch.md)."),
        ])
    }

    /// NNI's config list: each pruned Conv/Linear layer with the fraction of its output channels
    /// removed; the layers of one layer group share a `dependency_group_id` (their channels are
    /// tied, so NNI must remove the same ones from each). Depthwise convolutions are left out:
    /// they lose what their input loses.
    ///
    /// - Throws: `PruningError` naming the layer when a pruned layer has no module path.
    public func nniConfigList(removing removed: Set<Int>) throws(PruningError) -> JSONValue {
        try refuseGroupedOrShuffled(removed)
        var items: [JSONValue] = []
        for group in layerGroups where group.dependencyGroups.contains(where: removed.contains) {
            let ratio = Double(group.dependencyGroups.filter(removed.contains).count) / Double(group.channels)
            for producer in group.producers where !isDepthwise(producer) {
                let mapping = try paths.module(of: graph.nodes[producer], in: graph)
                items.append(.object([
                    "op_names": .array([.string(mapping.module)]), "sparse_ratio": .double(ratio),
                    "dependency_group_id": .int(group.id),
                ]))
            }
        }
        return .array(items)
    }

    /// `channels` (original numbering) as numbered once the channels `earlier` are gone.
    public static func renumbered(_ channels: [Int], after earlier: Set<Int>) -> [Int] {
        channels.map { c in c - earlier.filter { $0 < c }.count }
    }

    /// The producer named for a layer group: the first with a module path, non-depthwise
    /// convolutions and linear layers before depthwise ones (a depthwise convolution's output
    /// channels are its input's, which Torch-Pruning handles as a coupling, not a root).
    func namedProducer(of group: LayerGroup) throws(PruningError) -> (Int, TorchModulePaths.Mapping) {
        let ordered = group.producers.filter { !isDepthwise($0) } + group.producers.filter(isDepthwise)
        var firstError: PruningError? = nil
        for producer in ordered {
            do { return (producer, try paths.module(of: graph.nodes[producer], in: graph)) } catch {
                if firstError == nil { firstError = error }
            }
        }
        let layers = group.producers.map { graph.nodes[$0].name }.joined(separator: ", ")
        throw PruningError("layer group \(group.id) (\(layers)) loses channels, but none of its layers can be named in PyTorch: "
                           + (firstError?.description ?? "it has no layer"))
    }

    /// The output channels of `producer` the ONNX pruner drops, ascending.
    func removedChannels(of producer: Int, removing removed: Set<Int>) -> [Int] {
        (analysis.groupOfChannel[producer] ?? []).indices.filter { removed.contains(analysis.groupOfChannel[producer]![$0]) }
    }

    func isDepthwise(_ producer: Int) -> Bool {
        guard case .conv(let a) = graph.nodes[producer].op, a.groups > 1, let w = graph.constants[graph.nodes[producer].inputs[1]] else { return false }
        return w.shape.count == 4 && w.shape[1] == 1 && w.shape[0] == a.groups
    }

    /// Torch-Pruning ties the channels of grouped (not depthwise) convolutions and of channel
    /// shuffles its own way, so a plan of such a model cannot be told as the same channels:
    /// refused (exit 2) rather than exported wrong.
    func refuseGroupedOrShuffled(_ removed: Set<Int>) throws(PruningError) {
        guard !removed.isEmpty else { return }
        let grouped = graph.nodes.indices.filter { i in
            if case .conv(let a) = graph.nodes[i].op { return a.groups > 1 && !isDepthwise(i) }
            return false
        }
        let shuffles: [ChannelPermutation]
        do { shuffles = try graph.channelPermutations() } catch { throw PruningError("\(error)") }
        guard grouped.isEmpty, shuffles.isEmpty else {
            let names = (grouped.map { graph.nodes[$0].name } + shuffles.map { graph.nodes[$0.nodes[0]].name }).prefix(3)
            throw PruningError("the model has grouped (not depthwise) convolutions or channel shuffles (\(names.joined(separator: ", "))…), "
                               + "whose channels Torch-Pruning ties differently from WeakSpot: the export would not name the same channels")
        }
    }

    func isLinear(_ producer: Int) -> Bool {
        switch graph.nodes[producer].op {
        case .gemm, .matMul: return true
        default: return false
        }
    }
}
