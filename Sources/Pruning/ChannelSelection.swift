import ChannelGroups
import NetworkIR

/// Which channels of every activation survive when some dependency groups are removed, found by
/// following the channels from their producers through the graph the way `DependencyAnalysis`
/// ties them — through Transposes (the channel axis moves), Reshapes/Flattens that keep each
/// channel on one axis (kept positions are those holding a kept channel) and ReduceMeans.
///
/// It also checks that removal is exact: the pruned model equals the masked model (each removed
/// channel zeroed at its producers' tail ends) only if every removed channel is still zero where
/// a layer reads it. A removed channel that becomes non-zero on the way (a BatchNormalization or
/// a constant Add after a residual merge, a Sigmoid, a Pad with a non-zero value) would feed its
/// readers a value the pruned model no longer has, so the selection refuses it.
public struct ChannelSelection: Sendable {
    /// Kept channel indices of every activation that loses channels (values absent keep all).
    public var kept: [ValueID: [Int]]
    /// Positions of the channel axis of every activation, before pruning.
    public var channels: [ValueID: Int]
    /// The channel axis of every activation that loses channels, when it is not 1.
    public var axis: [ValueID: Int]
    /// The graph's channel permutations (shuffles), whose inner values carry no `kept` entry.
    public var permutations: [ChannelPermutation]

    /// - Throws: `PruningError` when a removed channel reaches a layer non-zero, or an operator
    ///   through which channels cannot be followed (which `DependencyAnalysis` marks unprunable).
    public init(graph: Graph, analysis: DependencyAnalysis, removing removed: Set<Int>) throws(PruningError) {
        let shapes: [[Int]?]
        let tails: [ChannelTail]
        do {
            shapes = try graph.inferShapes(batch: 1)
            tails = try graph.channelTails()
            permutations = try graph.channelPermutations()
        } catch {
            throw PruningError("\(error)")
        }
        let tailEnds = Set(tails.map(\.end))
        var kept: [ValueID: [Int]] = [:]
        var channels: [ValueID: Int] = [:]
        var axisOf: [ValueID: Int] = [:]
        /// The node after which a removed channel of the value may be non-zero in the masked model.
        var nonZeroSince: [ValueID: String] = [:]
        for (v, s) in shapes.enumerated() { if let s, s.count >= 2 { channels[v] = s[1] } }

        let permutationStart = Dictionary(uniqueKeysWithValues: permutations.map { ($0.nodes[0], $0) })
        var followed = Set<Int>()
        for (index, node) in graph.nodes.enumerated() {
            let label = "\(node.name) (\(node.op.onnxName))"
            let out = node.outputs[0]
            if followed.contains(index) { continue }
            if let p = permutationStart[index], axisOf[p.input] == nil {
                // A channel shuffle: the kept channels come out at their permuted positions.
                followed.formUnion(p.nodes.dropFirst())
                if let k = kept[p.input] {
                    kept[p.output] = p.outputPositions(keeping: k)
                    if let s = nonZeroSince[p.input] { nonZeroSince[p.output] = s }
                }
                continue
            }
            let live = node.inputs.filter { !graph.isConstant($0) }
            let removing = live.filter { kept[$0] != nil }
            func requireNone(_ why: String) throws(PruningError) {
                if !removing.isEmpty { throw PruningError("removed channels reach \(why)", node: label) }
            }
            func requireZero(_ value: ValueID) throws(PruningError) {
                if kept[value] != nil, let source = nonZeroSince[value] {
                    throw PruningError(
                        "removed channels of '\(graph.values[value].name)' are not zero in the masked model (made non-zero by \(source)), so removing them would change what this layer computes",
                        node: label)
                }
            }
            func pass(_ from: ValueID, nonZeroBy: String? = nil) {
                guard let k = kept[from] else { return }
                kept[out] = k
                if let a = axisOf[from] {
                    axisOf[out] = a
                    if let s = shapes[out], s.count > a { channels[out] = s[a] }
                }
                if let by = nonZeroBy { nonZeroSince[out] = by } else if let s = nonZeroSince[from] { nonZeroSince[out] = s }
            }

            /// Operators that read channels on axis 1 cannot take channels a layout operator moved.
            if removing.contains(where: { (axisOf[$0] ?? 1) != 1 }), node.op.readsChannelsOnAxisOne {
                try requireNone("an operator that reads channels on axis 1, after a layout operator moved them to another axis")
            }
            if graph.isChannelProducer(node) {
                let depthwise = Self.isDepthwise(node, channels: channels)
                if !depthwise, let input = live.first {
                    // Group 1 and grouped convolutions read their input channels as weights do.
                    try requireZero(input)
                }
                let groupOf = analysis.groupOfChannel[index] ?? []
                let survivors = groupOf.indices.filter { !removed.contains(groupOf[$0]) }
                if survivors.count < groupOf.count {
                    guard !survivors.isEmpty else {
                        throw PruningError("every output channel would be removed; keep at least one", node: label)
                    }
                    kept[out] = survivors
                    nonZeroSince[out] = label
                }
                if depthwise, let input = live.first, kept[input] != kept[out] {
                    throw PruningError("a depthwise convolution must lose the same channels as its input", node: label)
                }
            } else {
                switch node.op {
                case .conv, .gemm, .matMul:
                    try requireNone("a layer whose weight is not a constant")
                case .relu, .leakyRelu, .tanh, .hardSwish, .maxPool, .averagePool, .globalAveragePool:
                    if let x = live.first { pass(x) }
                case .clip(let lo, let hi):
                    if let x = live.first { pass(x, nonZeroBy: lo <= 0 && hi >= 0 ? nil : label) }
                case .batchNormalization, .sigmoid, .hardSigmoid, .fakeQuantize:
                    if let x = live.first { pass(x, nonZeroBy: label) }
                case .pad(let pads, let mode, let value):
                    let a = live.first.flatMap { axisOf[$0] } ?? 1
                    if pads.count >= 2 * (a + 1), pads[a] != 0 || pads[a + pads.count / 2] != 0 { try requireNone("a Pad of the channel axis") }
                    if let x = live.first { pass(x, nonZeroBy: mode == .constant && value != 0 ? label : nil) }
                case .reduceMean(let axes, let keepDims):
                    guard let x = live.first, kept[x] != nil else { break }
                    guard let moved = ChannelLayout.reduced(axisOf[x] ?? 1, axes: axes, keepDims: keepDims) else {
                        try requireNone("a ReduceMean over channels"); break
                    }
                    pass(x)
                    axisOf[out] = moved
                    channels[out] = shapes[out]?[moved]
                case .add, .sub, .mul, .div:
                    try Self.elementwise(node, label: label, live: live, graph: graph, kept: &kept, channels: channels,
                                         nonZeroSince: &nonZeroSince)
                    if kept[out] != nil, let a = removing.lazy.compactMap({ axisOf[$0] }).first {
                        axisOf[out] = a
                        channels[out] = shapes[out]?[a]
                    }
                case .concat(let axis):
                    guard !removing.isEmpty else { break }
                    let a = axisOf[removing[0]] ?? 1
                    guard axis == a || axis == -(shapes[out]?.count ?? 0) + a,
                          node.inputs.allSatisfy({ (axisOf[$0] ?? 1) == a }) else { try requireNone("a Concat along another axis"); break }
                    if a != 1 { axisOf[out] = a; channels[out] = shapes[out]?[a] }
                    var offset = 0
                    var list: [Int] = []
                    for v in node.inputs {
                        let c = shapes[v]?[a] ?? 1
                        list += (kept[v] ?? Array(0..<c)).map { $0 + offset }
                        offset += c
                        if let s = nonZeroSince[v], kept[v] != nil { nonZeroSince[out] = s }
                    }
                    kept[out] = list
                case .flatten, .reshape, .squeeze, .unsqueeze:
                    guard let x = live.first, let k = kept[x] else { break }
                    let inShape = shapes[x] ?? [], outShape = shapes[out] ?? []
                    let a = axisOf[x] ?? 1
                    guard inShape.count > a,
                          let placement = ChannelLayout.reshaped(a, step: 1, input: inShape, output: outShape, channels: inShape[a]) else {
                        try requireNone("a reshape that spreads channels over several axes"); break
                    }
                    kept[out] = placement.positions(of: k, channels: inShape[a])
                    axisOf[out] = placement.axis
                    channels[out] = placement.extent
                    if let s = nonZeroSince[x] { nonZeroSince[out] = s }
                case .transpose(let permutation):
                    guard let x = live.first, kept[x] != nil else { break }
                    guard let moved = ChannelLayout.transposed(axisOf[x] ?? 1, permutation: permutation) else {
                        try requireNone("a Transpose whose permutation does not keep the channel axis"); break
                    }
                    pass(x)
                    axisOf[out] = moved
                    channels[out] = shapes[out]?[moved]
                case .gather(let a):
                    guard let x = live.first, let k = kept[x] else { break }
                    let channelAxis = axisOf[x] ?? 1
                    guard a.indicesShape.count == 1 else { try requireNone("a Gather with indices of rank \(a.indicesShape.count)"); break }
                    pass(x)
                    if a.axis == channelAxis {
                        // Output position j holds input channel indices[j]: kept where that channel is.
                        let set = Set(k)
                        kept[out] = a.indices.indices.filter { set.contains(a.indices[$0]) }
                        channels[out] = a.indices.count
                    }
                case .slice, .softmax:
                    try requireNone("an operator that mixes or moves channels")
                case .unary(let f):
                    if let x = live.first { pass(x, nonZeroBy: f.keepsZero ? nil : label) }
                case .prelu:
                    if let x = live.first { pass(x) }
                case .pow:
                    if let x = live.first { pass(x, nonZeroBy: Self.powerKeepsZero(node, graph: graph) ? nil : label) }
                case .variadic(let kind):
                    try Self.variadic(kind, node: node, label: label, graph: graph, kept: &kept, channels: channels, nonZeroSince: &nonZeroSince)
                case .softmaxFamily:
                    try requireNone("an operator that mixes or moves channels")
                case .instanceNormalization:
                    if let x = live.first { pass(x, nonZeroBy: label) }
                case .resize(let a) where a.sizes == nil:
                    if let x = live.first { pass(x) }
                case .lrn, .resize, .convTranspose, .reduceSum, .reduceMax, .expand, .tile, .whereSelect, .compare:
                    try requireNone("a \(node.op.onnxName), which the pruner does not prune through (docs/plan.md)")
                }
            }
            if tailEnds.contains(out) { nonZeroSince[out] = nil }
        }
        for o in graph.outputs where kept[o] != nil {
            throw PruningError("removed channels reach the graph output '\(graph.values[o].name)'")
        }
        self.kept = kept
        self.channels = channels
        self.axis = axisOf
    }

    /// Whether `node` is a depthwise Conv (groups = input channels = output channels), which
    /// passes its input channels on one to one.
    static func isDepthwise(_ node: Node, channels: [ValueID: Int]) -> Bool {
        guard case .conv(let a) = node.op, a.groups > 1, let x = node.inputs.first else { return false }
        return a.groups == channels[x] && a.groups == channels[node.outputs[0]]
    }

    /// Add, Sub, Mul, Div: two activations of the same channels stay aligned (the analysis tied
    /// them, so they lose the same channels); a per-sample scalar or a constant broadcasts.
    private static func elementwise(_ node: Node, label: String, live: [ValueID], graph: Graph, kept: inout [ValueID: [Int]],
                                    channels: [ValueID: Int], nonZeroSince: inout [ValueID: String]) throws(PruningError) {
        let out = node.outputs[0]
        let pruned = live.filter { kept[$0] != nil }
        guard let first = pruned.first, let k = kept[first] else { return }
        for v in live where channels[v] == channels[first] && kept[v] != k {
            throw PruningError("the two operands lose different channels", node: label)
        }
        kept[out] = k
        let sources = live.filter { kept[$0] != nil }.map { nonZeroSince[$0] }
        let allNonZero = sources.allSatisfy { $0 != nil }
        let anyNonZero = sources.compactMap { $0 }.first
        let hasOther = node.inputs.count == 2 && (live.count == 1 || pruned.count == 1)
        switch node.op {
        case .mul:
            // Zero times anything is zero.
            nonZeroSince[out] = allNonZero ? anyNonZero : nil
        case .div:
            nonZeroSince[out] = node.inputs[0] == first ? nonZeroSince[first] : label
        default:
            // Adding a constant or a broadcast activation makes a zero channel non-zero.
            nonZeroSince[out] = anyNonZero ?? (hasOther ? label : nil)
        }
        if case .add = node.op, hasOther, live.count == 1, let c = node.inputs.first(where: graph.isConstant), let t = graph.constants[c],
           t.storage.allSatisfy({ $0 == 0 }) {
            nonZeroSince[out] = anyNonZero
        }
    }
}
