import ChannelGroups
import NetworkIR
import ONNXFormat

/// Rewrites that replace nodes rather than slice constants: grouped (not depthwise) convolutions
/// and channel shuffles, collected while `pruned(removing:)` walks the graph and applied after
/// the constant edits (which address nodes by their original index).
struct NodeRewrite {
    /// Original ONNX node index → the nodes that take its place (none: removed).
    var replacements: [Int: [ONNXNode]] = [:]
    /// New initializers (weights of per-group convolutions, Gather indices).
    var initializers: [ONNXTensor] = []
    /// Names the replaced nodes read: constants among them that nothing reads any more are dropped.
    var released: Set<String> = []
}

extension ChannelPruner {
    /// A grouped Conv (1 < group, not depthwise) that loses input or output channels. Group i
    /// reads input channels [i·Cin/g, (i+1)·Cin/g) (weight column c mod Cin/g) and writes output
    /// channels [i·Cout/g, (i+1)·Cout/g).
    ///
    /// When every group keeps the same number of input channels and of output channels, the
    /// layer stays one Conv with the same `group`: each kept filter keeps its own group's kept
    /// columns. Otherwise it becomes, per group that keeps outputs, a Gather (axis 1) of the
    /// group's kept input channels from the pruned input, a group-1 Conv of its kept filters,
    /// and a Concat (axis 1) of those outputs in group order: the same values as the grouped
    /// Conv of the pruned-and-zero-filled input. A group that keeps outputs but no input reads
    /// only zeros in the masked model and outputs its bias: it is written as a Conv with a zero
    /// weight over one input channel (0·x = 0 for finite x) plus that bias.
    func rewriteGrouped(_ node: Node, _ a: ConvAttributes, onnxIndex index: Int, inKept: [Int]?, outKept: [Int]?,
                        onnx: inout ONNXGraph, names: inout ONNXNames, rewrite: inout NodeRewrite) throws(PruningError) {
        let onnxNode = onnx.nodes[index]
        let label = "\(onnxNode.name) (\(onnxNode.opType))"
        guard let w = graph.constants[node.inputs[1]], w.rank == 4 else {
            throw PruningError("the weight of a grouped convolution is not a stored 4-D constant", node: label)
        }
        let bias: Tensor? = node.inputs.count > 2 ? graph.constants[node.inputs[2]] : nil
        if node.inputs.count > 2, bias == nil { throw PruningError("the bias of a grouped convolution is not a constant", node: label) }
        let g = a.groups, inPer = w.shape[1], cout = w.shape[0], outPer = cout / g
        let cin = inPer * g
        let kernel = w.shape[2] * w.shape[3]
        let inList = inKept ?? Array(0..<cin), outList = outKept ?? Array(0..<cout)
        let inOf = (0..<g).map { i in inList.filter { $0 / inPer == i } }
        let outOf = (0..<g).map { i in outList.filter { $0 / outPer == i } }
        let position = Dictionary(uniqueKeysWithValues: inList.enumerated().map { ($0.element, $0.offset) })

        /// Filters `rows` (original output channels) restricted to the original input channels
        /// `columns` of their group (empty: one zero column).
        func weight(rows: [Int], columns: (Int) -> [Int], width: Int) -> [Float] {
            var values: [Float] = []
            values.reserveCapacity(rows.count * width * kernel)
            for o in rows {
                let cols = columns(o)
                if cols.isEmpty { values += [Float](repeating: 0, count: width * kernel); continue }
                for c in cols {
                    let start = (o * inPer + c % inPer) * kernel
                    values += w.storage[start ..< start + kernel]
                }
            }
            return values
        }
        func biasTensor(_ rows: [Int], _ base: String) -> String? {
            guard let bias else { return nil }
            let name = names.fresh(base)
            rewrite.initializers.append(ONNXTensor(name: name, floats: rows.map { bias.storage[$0] }, dims: [rows.count]))
            return name
        }
        rewrite.released.formUnion(onnxNode.inputs.dropFirst())

        let counts = Set(inOf.map(\.count)), outCounts = Set(outOf.map(\.count))
        if counts.count == 1, outCounts.count == 1, let k = counts.first, k > 0, (outCounts.first ?? 0) > 0 {
            // Uniform: one Conv, same group, each filter keeps its group's columns.
            let name = names.fresh(onnxNode.inputs[1])
            let values = weight(rows: outList, columns: { inOf[$0 / outPer] }, width: k)
            rewrite.initializers.append(ONNXTensor(name: name, floats: values, dims: [outList.count, k, w.shape[2], w.shape[3]]))
            var replaced = onnxNode
            replaced.inputs[1] = name
            if onnxNode.inputs.count > 2, let b = biasTensor(outList, onnxNode.inputs[2]) { replaced.inputs[2] = b }
            rewrite.replacements[index] = [replaced]
            return
        }

        let active = (0..<g).filter { !outOf[$0].isEmpty }
        let output = onnxNode.outputs[0]
        var nodes: [ONNXNode] = []
        var parts: [String] = []
        for i in active {
            let columns = inOf[i]
            let gathered = names.fresh("\(output)_group\(i)_input")
            let indices = names.fresh("\(output)_group\(i)_indices")
            rewrite.initializers.append(ONNXTensor(name: indices, int64s: (columns.isEmpty ? [0] : columns.map { position[$0]! }).map(Int64.init),
                                                   dims: [max(columns.count, 1)]))
            nodes.append(ONNXNode(name: "\(onnxNode.name)/group\(i)/inputs", opType: "Gather", inputs: [onnxNode.inputs[0], indices],
                                  outputs: [gathered], attributes: [ONNXAttribute(name: "axis", value: .int(1))]))
            let weightName = names.fresh("\(onnxNode.inputs[1])_group\(i)")
            let width = max(columns.count, 1)
            rewrite.initializers.append(ONNXTensor(name: weightName, floats: weight(rows: outOf[i], columns: { _ in columns }, width: width),
                                                   dims: [outOf[i].count, width, w.shape[2], w.shape[3]]))
            var conv = onnxNode
            conv.name = "\(onnxNode.name)/group\(i)"
            conv.inputs = [gathered, weightName]
            if let b = biasTensor(outOf[i], "\(onnxNode.inputs.count > 2 ? onnxNode.inputs[2] : output)_group\(i)") { conv.inputs.append(b) }
            conv.attributes = conv.attributes.filter { $0.name != "group" } + [ONNXAttribute(name: "group", value: .int(1))]
            let part = active.count == 1 ? output : names.fresh("\(output)_group\(i)")
            conv.outputs = [part]
            nodes.append(conv)
            parts.append(part)
        }
        if active.count > 1 {
            nodes.append(ONNXNode(name: onnxNode.name, opType: "Concat", inputs: parts, outputs: [output],
                                  attributes: [ONNXAttribute(name: "axis", value: .int(1))]))
        }
        rewrite.replacements[index] = nodes
    }

    /// A Gather along the channel axis whose input loses channels: its indices become the kept
    /// output positions' channels, numbered in the pruned input (a new initializer).
    func rewriteGather(_ a: GatherAttributes, onnxIndex index: Int, inKept: [Int], outKept: [Int]?, onnx: ONNXGraph,
                       names: inout ONNXNames, rewrite: inout NodeRewrite) {
        let position = Dictionary(uniqueKeysWithValues: inKept.enumerated().map { ($0.element, $0.offset) })
        let kept = outKept ?? Array(a.indices.indices)
        let indices = kept.compactMap { position[a.indices[$0]] }
        var node = onnx.nodes[index]
        let name = names.fresh(node.inputs[1])
        rewrite.initializers.append(ONNXTensor(name: name, int64s: indices.map(Int64.init), dims: [indices.count]))
        rewrite.released.insert(node.inputs[1])
        node.inputs[1] = name
        rewrite.replacements[index] = [node]
    }

    /// A channel shuffle whose input loses channels. When it is the usual Reshape (N, g, C/g, …)
    /// → Transpose swapping axes 1 and 2 → Reshape (N, C, …) and every input group keeps the
    /// same positions (kept = {i·C/g + k : k ∈ K}), it stays that chain with C/g and C written
    /// smaller in the Reshape targets; otherwise the chain becomes one Gather (axis 1) whose
    /// indices send the kept input channels to the kept output order.
    func rewriteShuffle(_ p: ChannelPermutation, selection: ChannelSelection, nodeOfOutput: [String: Int],
                        onnx: inout ONNXGraph, names: inout ONNXNames, edits: inout [NodeSlot: Edit], rewrite: inout NodeRewrite) throws(PruningError) {
        guard let kept = selection.kept[p.input] else { return }
        var indices: [Int] = []
        for n in p.nodes {
            guard let i = nodeOfOutput[graph.values[graph.nodes[n].outputs[0]].name] else {
                throw PruningError("no ONNX node produces '\(graph.values[graph.nodes[n].outputs[0]].name)'", node: graph.nodes[n].name)
            }
            indices.append(i)
        }
        if try keepShuffleChain(p, kept: kept, onnxIndices: indices, onnx: &onnx, edits: &edits) { return }
        let position = Dictionary(uniqueKeysWithValues: kept.enumerated().map { ($0.element, $0.offset) })
        let order = p.outputPositions(keeping: kept).map { position[p.source[$0]]! }
        let first = onnx.nodes[indices[0]], last = onnx.nodes[indices[indices.count - 1]]
        let name = names.fresh("\(last.outputs[0])_indices")
        rewrite.initializers.append(ONNXTensor(name: name, int64s: order.map(Int64.init), dims: [order.count]))
        for (k, i) in indices.enumerated() {
            rewrite.released.formUnion(onnx.nodes[i].inputs.dropFirst())
            rewrite.replacements[i] = k == 0
                ? [ONNXNode(name: first.name, opType: "Gather", inputs: [first.inputs[0], name], outputs: [last.outputs[0]],
                            attributes: [ONNXAttribute(name: "axis", value: .int(1))])]
                : []
        }
    }

    /// Updates the Reshape targets of a (N, g, C/g, …) / (0, 2, 1, …) / (N, C, …) shuffle whose
    /// kept channels are the same positions of every group; false when the chain is another
    /// shape or the kept channels are not such a product.
    func keepShuffleChain(_ p: ChannelPermutation, kept: [Int], onnxIndices: [Int], onnx: inout ONNXGraph,
                          edits: inout [NodeSlot: Edit]) throws(PruningError) -> Bool {
        guard p.nodes.count == 3, case .reshape(let split) = graph.nodes[p.nodes[0]].op,
              case .transpose(let permutation) = graph.nodes[p.nodes[1]].op,
              case .reshape(let merge) = graph.nodes[p.nodes[2]].op else { return false }
        let shapes: [[Int]?]
        do { shapes = try graph.inferShapes(batch: 1) } catch { return false }
        guard let x = shapes[p.input], let spread = shapes[graph.nodes[p.nodes[0]].outputs[0]], spread.count == x.count + 1,
              permutation == [0, 2, 1] + Array(3..<spread.count) else { return false }
        let (g, per) = (spread[1], spread[2])
        guard g * per == x[1], Array(spread[3...]) == Array(x[2...]) else { return false }
        let positions = kept.filter { $0 < per }
        guard !positions.isEmpty, kept == (0..<g).flatMap({ i in positions.map { i * per + $0 } }) else { return false }
        // Entries 1 and 2 of the split target, entry 1 of the merge target: fixed sizes or -1.
        func entry(_ t: ShapeTemplate, _ j: Int) -> ShapeTemplateDimension? { t.dimensions.count > j ? t.dimensions[j] : nil }
        guard split.dimensions.count == spread.count, merge.dimensions.count == x.count else { return false }
        var changes: [(node: Int, index: Int, value: Int)] = []
        switch (entry(split, 1), entry(split, 2)) {
        case (.fixed(g)?, .fixed(per)?): changes.append((onnxIndices[0], 2, positions.count))
        case (.fixed(g)?, .infer?): break
        default: return false
        }
        switch entry(merge, 1) {
        case .fixed(x[1])?: changes.append((onnxIndices[2], 1, g * positions.count))
        case .infer?: break
        default: return false
        }
        for c in changes {
            let node = onnx.nodes[c.node]
            if var shape = node.attribute("shape")?.intsValue, shape.count > c.index {
                shape[c.index] = Int64(c.value)
                if let a = onnx.nodes[c.node].attributes.lastIndex(where: { $0.name == "shape" }) { onnx.nodes[c.node].attributes[a].value = .ints(shape) }
            } else if node.inputs.count > 1 {
                edits[NodeSlot(node: c.node, slot: 1)] = .setEntry(index: c.index, value: Int64(c.value))
            } else {
                return false
            }
        }
        return true
    }

    /// Puts the replacement nodes and new initializers in place, then drops what only the
    /// replaced nodes used: constants (initializers, their declared inputs, Constant nodes and
    /// aliases of them) and the declared types of values no node produces any more.
    func applyRewrite(_ rewrite: NodeRewrite, to onnx: inout ONNXGraph) {
        guard !rewrite.replacements.isEmpty else { return }
        var nodes: [ONNXNode] = []
        for (i, n) in onnx.nodes.enumerated() { if let r = rewrite.replacements[i] { nodes += r } else { nodes.append(n) } }
        onnx.nodes = nodes
        // Models of IR version < 4 list every initializer among the graph inputs: so do the new ones.
        let declared = Set(onnx.inputs.map(\.name))
        if onnx.initializers.contains(where: { declared.contains($0.name) }) {
            onnx.inputs += rewrite.initializers.map { ONNXValueInfo(name: $0.name, elementType: $0.dataType, shape: $0.dims.map { .value($0) }) }
        }
        onnx.initializers += rewrite.initializers
        var released = rewrite.released
        while true {
            let read = Set(onnx.nodes.flatMap(\.inputs)).union(onnx.outputs.map(\.name))
            let dead = released.filter { !read.contains($0) }
            guard !dead.isEmpty else { break }
            released.subtract(dead)
            let deadNodes = onnx.nodes.filter { n in ["Constant", "Identity", "Cast"].contains(n.opType) && n.outputs.allSatisfy(dead.contains) }
            for n in deadNodes { released.formUnion(n.inputs) }
            onnx.nodes.removeAll { n in ["Constant", "Identity", "Cast"].contains(n.opType) && n.outputs.allSatisfy(dead.contains) }
            onnx.initializers.removeAll { dead.contains($0.name) }
            let stillRead = Set(onnx.nodes.flatMap(\.inputs))
            onnx.inputs.removeAll { dead.contains($0.name) && !stillRead.contains($0.name) }
        }
        let produced = Set(onnx.nodes.flatMap(\.outputs)).union(onnx.inputs.map(\.name)).union(onnx.initializers.map(\.name))
        onnx.valueInfo.removeAll { !produced.contains($0.name) }
    }
}
