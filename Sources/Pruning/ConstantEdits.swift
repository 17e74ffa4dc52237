import NetworkIR
import ONNXFormat

/// Applying the edits `pruned(removing:)` collected to the ONNX graph's constants.
extension ChannelPruner {
    /// The dims of the constant `name` (through aliases), nil when it is an activation.
    func constantDims(_ name: String, _ onnx: ONNXGraph, _ names: ONNXNames) -> [Int]? {
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
            // An aliasing node (Identity, float Cast) is no use of its own: its consumers are.
            if let out = node.outputs.first, names.aliasOf[out] != nil { continue }
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
                throw PruningError("input \(use.slot) '\(onnx.nodes[use.node].inputs[use.slot])' must change with the channels but is computed by \(by), not stored", node: label(use))
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
                    // A float16/bfloat16/float64 weight reached through a Cast is wired straight to
                    // its consumer, which expects float32: the clone is stored widened (exact, as
                    // the importer only accepts float64 that float32 holds exactly).
                    if [.float16, .bfloat16, .double].contains(t.dataType), onnx.nodes[use.node].inputs[use.slot] != source {
                        do { t = ONNXTensor(name: t.name, floats: try t.floats(), dims: t.dims) } catch { throw PruningError("constant '\(source)': \(error)", node: label(use)) }
                    }
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
