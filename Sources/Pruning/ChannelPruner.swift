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
/// axis 1, Gemm columns or rows as `transB` says — H·W consecutive features per channel after a
/// Flatten — and MatMul rows); depthwise convolutions (weight axis 0 and `group`); a Reshape
/// target that hard-codes the channel count. Concat offsets follow by themselves. A constant
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
                throw PruningError("dependency group \(g) (channels of \(first)) is not prunable: its channels reach an operator WeakSpot cannot follow them through")
            }
        }
        let selection = try ChannelSelection(graph: graph, analysis: analysis, removing: removed)
        var onnx = model.graph
        var names = ONNXNames(onnx)
        let runtime = Dictionary(graph.values.indices.filter { !graph.isConstant($0) }.map { (graph.values[$0].name, $0) },
                                 uniquingKeysWith: { a, _ in a })
        var nodeOfOutput: [String: Int] = [:]
        for (i, node) in onnx.nodes.enumerated() { if let o = node.outputs.first { nodeOfOutput[o] = i } }
        let shapes: [[Int]?]
        do { shapes = try graph.inferShapes(batch: 1) } catch { throw PruningError("\(error)") }

        var edits: [NodeSlot: Edit] = [:]
        for node in graph.nodes {
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
                if let k = outKept, onnxNode.inputs.count > 2, let c = try constantDims(onnxNode.inputs[2], onnx, names, label) {
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
            case .add, .sub, .mul, .div:
                guard let k = outKept, let n = selection.channels[out], n > 1, let rank = shapes[out]?.count else { break }
                for (slot, name) in onnxNode.inputs.enumerated() where runtime[names.root(name)] == nil && !name.isEmpty {
                    guard let dims = try constantDims(name, onnx, names, label) else { continue }
                    let aligned = 1 - (rank - dims.count)
                    if aligned >= 0, dims[aligned] == n { edit(slot, [Cut(axis: aligned, keep: k)]) }
                }
            case .reshape(let template):
                guard template.dimensions.count > 1, case .fixed = template.dimensions[1], let k = outKept else { break }
                if let shape = onnxNode.attribute("shape")?.intsValue, shape.count > 1 {
                    var updated = shape
                    updated[1] = Int64(k.count)
                    if let a = onnx.nodes[index].attributes.lastIndex(where: { $0.name == "shape" }) {
                        onnx.nodes[index].attributes[a].value = .ints(updated)
                    }
                } else if onnxNode.inputs.count > 1 {
                    edits[NodeSlot(node: index, slot: 1)] = .setEntry(index: 1, value: Int64(k.count))
                }
            default:
                break
            }
        }
        try apply(edits, to: &onnx, names: &names)
        dropChangedValueInfo(&onnx, names: names, runtime: runtime, selection: selection)
        var result = model
        result.graph = onnx
        return result
    }

    struct NodeSlot: Hashable {
        var node: Int
        var slot: Int
    }

    /// The dims of the constant `name` (through aliases), nil when it is an activation.
    func constantDims(_ name: String, _ onnx: ONNXGraph, _ names: ONNXNames, _ label: String) throws(PruningError) -> [Int]? {
        let root = names.root(name)
        if let i = names.initializerIndex[root] { return onnx.initializers[i].dims }
        if let i = names.constantNode[root] { return ConstantSource.constantNode(i).tensor(in: onnx, name: root)?.dims }
        return nil
    }

    /// Applies the edits to the constants they name: in place when every use of a constant wants
    /// the same result, otherwise on clones, one per distinct edit.
    func apply(_ edits: [NodeSlot: Edit], to onnx: inout ONNXGraph, names: inout ONNXNames) throws(PruningError) {
        var editsOfSource: [String: [NodeSlot: Edit]] = [:]
        for (use, e) in edits { editsOfSource[names.root(onnx.nodes[use.node].inputs[use.slot]), default: [:]][use] = e }
        var allUses: [String: [NodeSlot]] = [:]
        for (i, node) in onnx.nodes.enumerated() {
            for (s, name) in node.inputs.enumerated() where !name.isEmpty {
                let root = names.root(name)
                if editsOfSource[root] != nil { allUses[root, default: []].append(NodeSlot(node: i, slot: s)) }
            }
        }
        let outputNames = Set(onnx.outputs.map { names.root($0.name) })
        for source in editsOfSource.keys.sorted() {
            let wanted = editsOfSource[source]!
            let nodes = onnx.nodes
            func label(_ use: NodeSlot) -> String { "\(nodes[use.node].name) (\(nodes[use.node].opType))" }
            let home: ConstantSource
            if let i = names.initializerIndex[source] { home = .initializer(i) } else if let i = names.constantNode[source] { home = .constantNode(i) } else {
                let use = wanted.keys.min { ($0.node, $0.slot) < ($1.node, $1.slot) }!
                let by = onnx.nodes.first { $0.outputs.contains(source) }.map { "node \($0.name) (\($0.opType))" } ?? "the graph"
                throw PruningError("input \(use.slot) '\(onnx.nodes[use.node].inputs[use.slot])' must be sliced but is computed by \(by), not stored", node: label(use))
            }
            guard let original = home.tensor(in: onnx, name: source) else {
                throw PruningError("constant '\(source)' has no tensor value to slice")
            }
            let uses = allUses[source] ?? []
            let distinct = Set(uses.map { wanted[$0] })
            if distinct.count == 1, !outputNames.contains(source), let only = distinct.first, let e = only {
                home.store(try edited(original, e, label(uses[0])), in: &onnx)
                updateDeclaredInput(source, dims: try edited(original, e, label(uses[0])).dims, in: &onnx)
                continue
            }
            var cloneOf: [Edit: String] = [:]
            for use in uses {
                guard let e = wanted[use] else { continue }
                if cloneOf[e] == nil {
                    var t = try edited(original, e, label(use))
                    t.name = names.fresh(source)
                    t.docString = ""
                    onnx.initializers.append(t)
                    cloneOf[e] = t.name
                }
                onnx.nodes[use.node].inputs[use.slot] = cloneOf[e]!
            }
        }
    }

    func edited(_ tensor: ONNXTensor, _ edit: Edit, _ label: String) throws(PruningError) -> ONNXTensor {
        switch edit {
        case .cuts(let cuts):
            var t = tensor
            for cut in cuts {
                guard cut.axis < t.dims.count else {
                    throw PruningError("constant '\(tensor.name)' \(tensor.dims) has no axis \(cut.axis) to slice", node: label)
                }
                do { t = try t.keeping(cut.keep, axis: cut.axis) } catch { throw PruningError(error.message, node: label) }
            }
            return t
        case .setEntry(let index, let value):
            guard var entries = try? tensor.int64s(), index < entries.count else {
                throw PruningError("reshape target '\(tensor.name)' is not an integer shape with \(index + 1) entries", node: label)
            }
            entries[index] = value
            return ONNXTensor(name: tensor.name, int64s: entries, dims: tensor.dims)
        }
    }

    /// Models of IR version < 4 list initializers among the graph inputs, with their shapes.
    func updateDeclaredInput(_ name: String, dims: [Int], in onnx: inout ONNXGraph) {
        for i in onnx.inputs.indices where onnx.inputs[i].name == name && onnx.inputs[i].shape != nil {
            onnx.inputs[i].shape = dims.map { .value($0) }
        }
    }

    /// Drops the declared types of intermediate values whose shape changed.
    func dropChangedValueInfo(_ onnx: inout ONNXGraph, names: ONNXNames, runtime: [String: ValueID], selection: ChannelSelection) {
        onnx.valueInfo.removeAll { info in
            let root = names.root(info.name)
            if let v = runtime[root] { return selection.kept[v] != nil }
            return names.initializerIndex[root] != nil || names.constantNode[root] != nil
        }
    }
}
