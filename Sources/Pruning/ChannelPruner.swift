import ChannelGroups
import NetworkIR
import ONNXFormat

/// Physical channel pruning of an ONNX model: removes whole dependency groups by slicing the
/// weights of every layer that produces or reads their channels, so that the model becomes
/// smaller and its outputs equal those of the masked model (the removed channels zeroed at
/// each member's per-channel tail end, the profiler's structural ablation).
///
/// What is sliced: producer weights (axis 0) and biases; BatchNormalization parameters and
/// per-channel constant operands of Add/Sub/Mul/Div; readers' input channels (Conv weight
/// axis 1, Gemm columns or rows as `transB` says — H·W consecutive features per channel after an
/// NCHW Flatten, columns {i·C + c} after an NHWC one — and MatMul rows); depthwise convolutions
/// (weight axis 0 and `group`); a Reshape target that hard-codes the channel count on the
/// channel axis; per-channel constants on whichever axis holds the channels (after a Transpose,
/// an NHWC (1,1,1,C) or (C) bias); a Gather's indices along the channel axis. Grouped (not
/// depthwise) convolutions stay one Conv when every group keeps as many channels as the others,
/// and are otherwise split into one Conv per group (ChannelPruner+Grouped.swift); a channel
/// shuffle keeps its Reshape–Transpose–Reshape form when the kept channels allow it and becomes
/// a Gather otherwise. Concat offsets follow by themselves. A constant
/// shared by nodes that need different slices is cloned. Node names, opsets, metadata and doc
/// strings are kept; `value_info` entries of values whose shape changes are dropped.
public struct ChannelPruner: Sendable {
    public let model: ONNXModel
    public let graph: Graph
    public let analysis: DependencyAnalysis

    /// `graph` must be `model` imported by `Importer.importGraph`, and `analysis` its analysis.
    public init(model: ONNXModel, graph: Graph, analysis: DependencyAnalysis) {
        self.model = model
        self.graph = graph
        self.analysis = analysis
    }

    /// One axis of a tensor cut down to the entries `keep`.
    struct Cut: Hashable {
        var axis: Int
        var keep: [Int]
    }

    /// What one node needs from one of its constant inputs.
    enum Edit: Hashable {
        /// Keep only some entries along some axes.
        case cuts([Cut])
        /// An int64 shape whose entry `index` becomes `value` (a Reshape target).
        case setEntry(index: Int, value: Int64)
    }

    /// The model without the dependency groups `removed` (ids into `analysis.groups`).
    ///
    /// - Throws: `PruningError` for an unknown or unprunable group, a layer that would lose all
    ///   its channels, a removal that would not equal the masked model, or a constant the
    ///   rewrite cannot reach (computed by other nodes rather than stored).
    public func pruned(removing removed: Set<Int>) throws(PruningError) -> ONNXModel {
        for g in removed.sorted() {
            guard analysis.groups.indices.contains(g) else {
                throw PruningError("dependency group \(g) does not exist (the model has \(analysis.groups.count))")
            }
            guard analysis.groups[g].prunable else {
                let first = analysis.groups[g].members.first.map { graph.nodes[$0.producer].name } ?? "?"
                let why = analysis.groups[g].reason ?? "its channels reach an operator WeakSpot cannot follow them through"
                throw PruningError("dependency group \(g) (channels of \(first)) is not prunable: \(why)")
            }
        }
        let selection = try ChannelSelection(graph: graph, analysis: analysis, removing: removed)
        var onnx = model.graph
        var names = ONNXNames(onnx)
        let runtime = Dictionary(graph.values.indices.filter { !graph.isConstant($0) }.map { (graph.values[$0].name, $0) },
                                 uniquingKeysWith: { a, _ in a })
        var nodeOfOutput: [String: Int] = [:]
        for (i, node) in onnx.nodes.enumerated() { if let o = node.outputs.first { nodeOfOutput[o] = i } }
        let foldedShapes = Dictionary(graph.constants.map { (graph.values[$0.key].name, $0.value.shape) }, uniquingKeysWith: { a, _ in a })
        let shapes: [[Int]?]
        do { shapes = try graph.inferShapes(batch: 1) } catch { throw PruningError("\(error)") }

        var edits: [NodeSlot: Edit] = [:]
        var rewrite = NodeRewrite()
        for p in selection.permutations {
            try rewriteShuffle(p, selection: selection, nodeOfOutput: nodeOfOutput, onnx: &onnx, names: &names, edits: &edits, rewrite: &rewrite)
        }
        let permuting = Set(selection.permutations.flatMap { $0.nodes })
        for (nodeIndex, node) in graph.nodes.enumerated() where !permuting.contains(nodeIndex) {
            let out = node.outputs[0]
            let live = node.inputs.filter { !graph.isConstant($0) }
            let outKept = selection.kept[out]
            let inKept = live.first.flatMap { selection.kept[$0] }
            guard outKept != nil || inKept != nil else { continue }
            guard let index = nodeOfOutput[graph.values[out].name] else {
                throw PruningError("no ONNX node produces '\(graph.values[out].name)'", node: node.name)
            }
            let onnxNode = onnx.nodes[index]
            let label = "\(onnxNode.name) (\(onnxNode.opType))"
            func edit(_ slot: Int, _ cuts: [Cut?]) {
                let list = cuts.compactMap { $0 }
                if !list.isEmpty, slot < onnxNode.inputs.count, !onnxNode.inputs[slot].isEmpty {
                    edits[NodeSlot(node: index, slot: slot)] = .cuts(list)
                }
            }
            switch node.op {
            case .conv(let a) where a.groups > 1 && !ChannelSelection.isDepthwise(node, channels: selection.channels):
                try rewriteGrouped(node, a, onnxIndex: index, inKept: inKept, outKept: outKept, onnx: &onnx, names: &names, rewrite: &rewrite)
            case .conv(let a):
                let depthwise = a.groups > 1
                edit(1, [outKept.map { Cut(axis: 0, keep: $0) }, depthwise ? nil : inKept.map { Cut(axis: 1, keep: $0) }])
                edit(2, [outKept.map { Cut(axis: 0, keep: $0) }])
                if depthwise, let k = outKept, let g = onnx.nodes[index].attributes.lastIndex(where: { $0.name == "group" }) {
                    onnx.nodes[index].attributes[g].value = .int(Int64(k.count))
                }
            case .gemm(_, _, let transA, let transB):
                if transA, inKept != nil { throw PruningError("removed channels reach a Gemm with transA = 1", node: label) }
                edit(1, [outKept.map { Cut(axis: transB ? 0 : 1, keep: $0) }, inKept.map { Cut(axis: transB ? 1 : 0, keep: $0) }])
                if let k = outKept, onnxNode.inputs.count > 2, let c = constantDims(onnxNode.inputs[2], onnx, names) {
                    let n = selection.channels[out] ?? 0
                    if c.count == 1, c[0] == n { edit(2, [Cut(axis: 0, keep: k)]) }
                    if c.count == 2, c[1] == n { edit(2, [Cut(axis: 1, keep: k)]) }
                }
            case .matMul:
                if inKept != nil, let x = live.first, shapes[x]?.count != 2 {
                    throw PruningError("removed channels reach a MatMul whose input is not 2-D", node: label)
                }
                edit(1, [inKept.map { Cut(axis: 0, keep: $0) }, outKept.map { Cut(axis: 1, keep: $0) }])
            case .batchNormalization:
                for slot in 1...4 { edit(slot, [inKept.map { Cut(axis: 0, keep: $0) }]) }
            case .instanceNormalization:
                for slot in 1...2 { edit(slot, [inKept.map { Cut(axis: 0, keep: $0) }]) }
            case .prelu, .pow, .variadic:
                fallthrough
            case .add, .sub, .mul, .div:
                guard let k = outKept, let n = selection.channels[out], n > 1, let rank = shapes[out]?.count else { break }
                for (slot, name) in onnxNode.inputs.enumerated() where runtime[names.root(name)] == nil && !name.isEmpty {
                    // A folded constant (not stored) still needs slicing: `apply` then refuses it.
                    guard let dims = constantDims(name, onnx, names) ?? foldedShapes[names.root(name)] else { continue }
                    // Right-aligned broadcasting against the output's channel axis (3 on NHWC).
                    let aligned = (selection.axis[out] ?? 1) - (rank - dims.count)
                    if aligned >= 0, dims[aligned] == n { edit(slot, [Cut(axis: aligned, keep: k)]) }
                }
            case .gather(let a):
                if let k = inKept, a.axis == (live.first.flatMap { selection.axis[$0] } ?? 1) {
                    rewriteGather(a, onnxIndex: index, inKept: k, outKept: outKept, onnx: onnx, names: &names, rewrite: &rewrite)
                }
            case .reshape(let template):
                // The target's entry on the channel axis (1, or where the reshape put the channels).
                let j = selection.axis[out] ?? 1
                guard template.dimensions.count > j, case .fixed = template.dimensions[j], let k = outKept else { break }
                if let shape = onnxNode.attribute("shape")?.intsValue, shape.count > j {
                    var updated = shape
                    updated[j] = Int64(k.count)
                    if let a = onnx.nodes[index].attributes.lastIndex(where: { $0.name == "shape" }) {
                        onnx.nodes[index].attributes[a].value = .ints(updated)
                    }
                } else if onnxNode.inputs.count > 1 {
                    edits[NodeSlot(node: index, slot: 1)] = .setEntry(index: j, value: Int64(k.count))
                }
            default:
                break
            }
        }
        try apply(edits, to: &onnx, names: &names)
        dropChangedValueInfo(&onnx, names: names, runtime: runtime, selection: selection)
        applyRewrite(rewrite, to: &onnx)
        var result = model
        result.graph = onnx
        return result
    }

    struct NodeSlot: Hashable {
        var node: Int
        var slot: Int
    }
}
