import NetworkIR

/// One producer channel that belongs to a group.
/// A layer that reads a group's channel: its input channel (Conv) or feature (Gemm/MatMul) index.
public struct GroupReader: Sendable, Equatable {
    public var node: Int
    public var input: Int
}

public struct GroupMember: Sendable, Equatable, Hashable {
    /// Index of the producer node in `Graph.nodes`.
    public var producer: Int
    public var channel: Int
}

/// A set of channels that structural pruning must remove together (a DepGraph group): channels
/// tied by residual Adds, Mul/Sub/Div between activations (squeeze-excite), Concat offsets,
/// depthwise convolutions and channel shuffles (a channel and the one it becomes).
public struct DependencyGroup: Sendable, Equatable {
    /// Producer channels in the group, ordered by node, then channel.
    public var members: [GroupMember]
    /// False when a channel of the group reaches an operator through which WeakSpot cannot follow
    /// channels (a Transpose, a Reshape that mixes channels, a graph output): the planner must
    /// keep such groups.
    public var prunable: Bool
    /// Why the group is not prunable (the first obstacle found), for the planner and `prune` to print.
    public var reason: String? = nil
}

/// The dependency analysis: every activation's channel axis is a list of slots; producers create
/// fresh slots, per-channel operators pass them on, merging operators unite them slot by slot,
/// Concat joins the lists, Flatten repeats each slot over the spatial positions. Groups are the
/// classes of united producer slots.
///
/// The channel axis is tracked per activation (`ChannelLayout`): a Transpose moves it (NHWC
/// exports put it on axis 3 between Transposes), a Reshape/Flatten that keeps each channel on one
/// output axis maps positions to slots, a ReduceMean over other axes shifts it. Operators that
/// read channels on axis 1 (Conv, BatchNormalization, pooling, Gemm) block slots that sit on
/// another axis, since they would mix or treat them as something else. A chain of layout
/// operators that permutes channels (`ChannelPermutation`, a channel shuffle) maps slot j of its
/// output to slot source[j] of its input; a Gather along the channel axis maps them by its indices.
public struct DependencyAnalysis: Sendable {
    public var groups: [DependencyGroup]
    /// For each producer node, the group index of each of its output channels.
    public var groupOfChannel: [Int: [Int]]
    /// For each group, the convolutions (groups 1) and dense layers that read its channels:
    /// (node index, input channel or feature index). Removing the group removes those inputs.
    public var readers: [[GroupReader]]

    public init(graph: Graph) throws(GraphError) {
        let shapes = try graph.inferShapes(batch: 1)
        var parent: [Int] = []
        var blocked: [Bool] = []
        var owner: [GroupMember?] = []
        func newSlot(_ member: GroupMember?) -> Int {
            parent.append(parent.count); blocked.append(false); owner.append(member)
            return parent.count - 1
        }
        func find(_ x: Int) -> Int {
            var x = x
            while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }
            return x
        }
        func unite(_ a: Int, _ b: Int) {
            let (ra, rb) = (find(a), find(b))
            if ra != rb {
                parent[max(ra, rb)] = min(ra, rb)
                blocked[min(ra, rb)] = blocked[ra] || blocked[rb]
                reasons[min(ra, rb)] = reasons[min(ra, rb)] ?? reasons[max(ra, rb)]
            }
        }
        var reasons: [Int: String] = [:]
        func block(_ slots: [Int], _ why: String = "its channels reach an operator WeakSpot cannot follow them through") {
            for s in slots {
                let root = find(s)
                blocked[root] = true
                if reasons[root] == nil { reasons[root] = why }
            }
        }

        var slots = [[Int]?](repeating: nil, count: graph.values.count)
        /// The axis each value's slots run along (1 unless a layout operator moved it).
        var slotAxis = [Int](repeating: 1, count: graph.values.count)
        /// Fresh blocked slots for a value whose channels cannot be followed (nil owners).
        func opaque(_ count: Int) -> [Int] {
            let fresh = (0..<count).map { _ in newSlot(nil) }
            block(fresh)
            return fresh
        }
        var readerSlots: [(node: Int, slots: [Int])] = []
        for input in graph.inputs {
            let c = input.shape(batch: 1).count >= 2 ? input.shape(batch: 1)[1] : 1
            let fresh = (0..<c).map { _ in newSlot(nil) }
            block(fresh)
            slots[input.value] = fresh
        }
        let permutations = try graph.channelPermutations()
        let permutationStart = Dictionary(uniqueKeysWithValues: permutations.map { ($0.nodes[0], $0) })
        var followed = Set<Int>()
        for (index, node) in graph.nodes.enumerated() {
            let out = node.outputs[0]
            if followed.contains(index) { continue }
            // A channel shuffle: output channel j is input channel source[j] (ChannelPermutation).
            if let p = permutationStart[index], slotAxis[p.input] == 1, let s = slots[p.input], s.count == p.source.count {
                slots[p.output] = p.source.map { s[$0] }
                followed.formUnion(p.nodes.dropFirst())
                continue
            }
            var ins = node.inputs.map { graph.constants[$0] == nil ? slots[$0] : nil }
            let outShape = shapes[out] ?? []
            let outChannels = outShape.count >= 2 ? outShape[1] : 1
            let inAxis = node.inputs.first.map { slotAxis[$0] } ?? 1
            // Operators that read channels on axis 1 cannot follow slots moved elsewhere.
            if inAxis != 1, node.op.readsChannelsOnAxisOne, let s = ins[0] {
                block(s)
                ins[0] = nil
                if !graph.isChannelProducer(node) {
                    slots[out] = opaque(outChannels)
                    continue
                }
            }
            switch node.op {
            case .conv(let a):
                let fresh = (0..<outChannels).map { newSlot(GroupMember(producer: index, channel: $0)) }
                if let input = ins[0] {
                    if a.groups > 1, a.groups == input.count, a.groups == outChannels {
                        // Depthwise: each output channel is its input channel filtered.
                        for c in 0..<outChannels { unite(fresh[c], input[c]) }
                    } else {
                        // Group 1 or grouped: output channels are fresh, input channel c is read by
                        // group c / (Cin/g) as its weight column c mod (Cin/g). The pruner keeps
                        // the layer one Conv or splits it per group (ChannelPruner+Grouped).
                        readerSlots.append((index, input))
                    }
                }
                slots[out] = fresh
            case .gemm, .matMul:
                if graph.isChannelProducer(node) {
                    slots[out] = (0..<outChannels).map { newSlot(GroupMember(producer: index, channel: $0)) }
                    if let input = ins[0] { readerSlots.append((index, input)) }
                } else {
                    for s in ins.compactMap({ $0 }) { block(s) }
                    slots[out] = (0..<outChannels).map { _ in newSlot(nil) }
                    block(slots[out]!)
                }
            case .batchNormalization, .relu, .leakyRelu, .clip, .sigmoid, .hardSigmoid, .hardSwish, .tanh, .fakeQuantize,
                 .maxPool, .averagePool, .globalAveragePool, .pad, .softmax:
                let rank = outShape.count
                if case .softmax(let axis) = node.op, axis == inAxis || axis + rank == inAxis, let s = ins[0] { block(s) }
                if case .pad(let pads, _, _) = node.op, pads.count == 2 * rank, rank > inAxis,
                   pads[inAxis] != 0 || pads[inAxis + rank] != 0, let s = ins[0] { block(s) }
                slots[out] = ins[0]
                slotAxis[out] = inAxis
            case .add, .sub, .mul, .div:
                let live = ins.compactMap { $0 }
                let liveAxes = node.inputs.filter { graph.constants[$0] == nil }.map { slotAxis[$0] }
                slotAxis[out] = live.count == 2 && live[0].count == 1 ? (liveAxes.last ?? 1) : (liveAxes.first ?? 1)
                if live.count == 2, live[0].count == live[1].count, live[0].count > 1, liveAxes[0] != liveAxes[1] {
                    // Channels on different axes: the broadcast pairs a channel with positions of another axis.
                    for s in live { block(s) }
                    slots[out] = opaque(outShape.count > slotAxis[out] ? outShape[slotAxis[out]] : 1)
                } else if live.count == 2, live[0].count == live[1].count {
                    for c in 0..<live[0].count { unite(live[0][c], live[1][c]) }
                    slots[out] = live[0]
                } else if live.count == 2, live[0].count == 1 || live[1].count == 1 {
                    // A per-sample scalar (N,1,...) scales every channel: ties nothing.
                    slots[out] = live[0].count == 1 ? live[1] : live[0]
                } else if live.count == 1 {
                    slots[out] = live[0]
                } else {
                    for s in live { block(s) }
                    slots[out] = (0..<outChannels).map { _ in newSlot(nil) }
                }
            case .concat(let axis):
                let liveAxes = node.inputs.filter { graph.constants[$0] == nil }.map { slotAxis[$0] }
                slotAxis[out] = 1
                if (axis == inAxis || axis + outShape.count == inAxis), liveAxes.allSatisfy({ $0 == inAxis }) {
                    slotAxis[out] = inAxis
                    let extent = outShape.count > inAxis ? outShape[inAxis] : 0
                    slots[out] = ins.flatMap { $0 ?? [] }
                    if slots[out]!.count != extent { slots[out] = (0..<extent).map { _ in newSlot(nil) } }
                } else if axis == 1 {
                    slots[out] = ins.flatMap { $0 ?? [] }
                    if slots[out]!.count != outChannels { slots[out] = (0..<outChannels).map { _ in newSlot(nil) } }
                } else {
                    for s in ins.compactMap({ $0 }) { block(s) }
                    slots[out] = (0..<outChannels).map { _ in newSlot(nil) }
                    block(slots[out]!)
                }
            case .flatten, .reshape, .squeeze, .unsqueeze:
                // Each position of the channel axis is followed as its own slot: an NCHW Flatten
                // (N,C,H,W → N,C·H·W) repeats each slot H·W times, an NHWC one tiles them {i·C + c}.
                let inShape = shapes[node.inputs[0]] ?? []
                if let s = ins[0], inShape.count > inAxis,
                   let placement = ChannelLayout.reshaped(inAxis, step: 1, input: inShape, output: outShape, channels: inShape[inAxis]) {
                    slots[out] = (0..<placement.extent).map { s[placement.channel(at: $0, channels: s.count)] }
                    slotAxis[out] = placement.axis
                } else {
                    if let s = ins[0] { block(s) }
                    slots[out] = opaque(outChannels)
                }
            case .reduceMean(let axes, let keepDims):
                if let moved = ChannelLayout.reduced(inAxis, axes: axes, keepDims: keepDims) {
                    slots[out] = ins[0]
                    slotAxis[out] = moved
                } else {
                    if let s = ins[0] { block(s) }
                    slots[out] = opaque(outChannels)
                }
            case .transpose(let permutation):
                if let s = ins[0], let moved = ChannelLayout.transposed(inAxis, permutation: permutation) {
                    slots[out] = s
                    slotAxis[out] = moved
                } else {
                    if let s = ins[0] { block(s) }
                    slots[out] = opaque(outChannels)
                }
            case .unary:
                slots[out] = ins[0]
                slotAxis[out] = inAxis
            case .prelu, .pow:
                // Their constant operand is laid out along axis 1 (readsChannelsOnAxisOne).
                slots[out] = ins[0]
            case .softmaxFamily(let s):
                // The row spans the channels when it is axis 1, or every axis from 0 or 1 on.
                if s.axis == 1 || (s.coercedTo2D && s.axis == 0), let x = ins[0] { block(x) }
                slots[out] = ins[0]
            case .variadic:
                // Like Add: activations of the same channels are tied; a per-sample scalar ties nothing.
                let live = ins.compactMap { $0 }
                let widest = live.max { $0.count < $1.count } ?? []
                if widest.count == outChannels, live.allSatisfy({ $0.count == widest.count || $0.count == 1 }) {
                    for s in live where s.count == widest.count { for c in 0..<s.count { unite(widest[c], s[c]) } }
                    slots[out] = widest
                } else {
                    for s in live { block(s) }
                    slots[out] = (0..<outChannels).map { _ in newSlot(nil) }
                }
            case .instanceNormalization:
                slots[out] = ins[0]
            case .resize(let a) where a.sizes == nil:
                // Per channel (the importer refuses scaling axis 1). With `sizes` the ONNX file
                // spells the channel count out, which the pruner does not rewrite: blocked below.
                slots[out] = ins[0]
            case .gather(let a):
                // Along the channel axis with a list of indices: output position j is channel
                // indices[j] (a selection, permutation or repetition); along another axis the
                // channels pass.
                if let s = ins[0], a.indicesShape.count == 1 {
                    slots[out] = a.axis == inAxis ? a.indices.map { s[$0] } : s
                    slotAxis[out] = inAxis
                } else {
                    if let s = ins[0] { block(s) }
                    slots[out] = opaque(outChannels)
                }
            case .slice, .lrn, .resize, .convTranspose, .reduceSum, .reduceMax, .expand, .tile, .whereSelect, .compare:
                // Mixes channels (LRN, ConvTranspose, a reduction over them) or is not followed by
                // the pruner (docs/plan.md, "Structural operators"): such channels stay.
                for s in ins.compactMap({ $0 }) { block(s) }
                slots[out] = (0..<outChannels).map { _ in newSlot(nil) }
                block(slots[out]!)
            }
        }
        try Self.blockNonZeroReads(graph: graph, slots: slots, permutations: permutations, find: find, block: block)
        for o in graph.outputs { if let s = slots[o] { block(s, "its channels reach the graph output '\(graph.values[o].name)'") } }

        // Classes → groups, ordered by their first member.
        var classMembers: [Int: [GroupMember]] = [:]
        for (slot, member) in owner.enumerated() {
            guard let member else { continue }
            classMembers[find(slot), default: []].append(member)
        }
        let ordered = classMembers.sorted { a, b in
            let (x, y) = (a.value.min { ($0.producer, $0.channel) < ($1.producer, $1.channel) }!, b.value.min { ($0.producer, $0.channel) < ($1.producer, $1.channel) }!)
            return (x.producer, x.channel) < (y.producer, y.channel)
        }
        var groups: [DependencyGroup] = []
        var groupOf: [Int: [Int]] = [:]
        for (index, entry) in ordered.enumerated() {
            let members = Array(Set(entry.value)).sorted { ($0.producer, $0.channel) < ($1.producer, $1.channel) }
            groups.append(DependencyGroup(members: members, prunable: !blocked[entry.key],
                                          reason: blocked[entry.key] ? reasons[entry.key] : nil))
            for m in members {
                let channels = shapes[graph.nodes[m.producer].outputs[0]]?[1] ?? 0
                if groupOf[m.producer] == nil { groupOf[m.producer] = [Int](repeating: -1, count: channels) }
                groupOf[m.producer]![m.channel] = index
            }
        }
        var rootGroup: [Int: Int] = [:]
        for (index, entry) in ordered.enumerated() { rootGroup[entry.key] = index }
        var readers = [[GroupReader]](repeating: [], count: groups.count)
        for r in readerSlots {
            for (j, slot) in r.slots.enumerated() {
                if let g = rootGroup[find(slot)] { readers[g].append(GroupReader(node: r.node, input: j)) }
            }
        }
        self.groups = groups
        self.groupOfChannel = groupOf
        self.readers = readers
    }
}

extension DependencyAnalysis {
    /// Blocks channels that a layer would read non-zero in the masked model. Ablation zeroes a
    /// channel at its producers' tail ends; an operator after that point can make it non-zero
    /// again (a BatchNormalization before a Conv, as in DenseNet's BN–ReLU–Conv after a dense
    /// Concat; a Sigmoid; a constant Add; a Pad with a non-zero value), and a Conv or dense
    /// layer reading it would then compute something the pruned model (which has no such
    /// channel) cannot — so removing it would not equal the masked model. `ChannelSelection`
    /// refuses such a removal; blocking the group here keeps the planner from choosing it.
    ///
    /// Tracked per value as the slot classes (roots) that may be non-zero there, with the node
    /// that made them so.
    private static func blockNonZeroReads(graph: Graph, slots: [[Int]?], permutations: [ChannelPermutation],
                                          find: (Int) -> Int, block: ([Int], String) -> Void) throws(GraphError) {
        let tailEnds = Set(try graph.channelTails().map(\.end))
        let permuting = Set(permutations.flatMap { $0.nodes })
        var nonZero = [[Int: String]](repeating: [:], count: graph.values.count)
        for (index, node) in graph.nodes.enumerated() {
            let out = node.outputs[0]
            let live = node.inputs.filter { graph.constants[$0] == nil }
            if permuting.contains(index), let x = live.first {
                // A permutation moves values, zero or not, whole.
                nonZero[out] = nonZero[x]
                continue
            }
            let label = "\(node.name) (\(node.op.onnxName))"
            let outRoots = Set((slots[out] ?? []).map(find))
            func all() -> [Int: String] { Dictionary(uniqueKeysWithValues: outRoots.map { ($0, label) }) }
            func carried() -> [Int: String] {
                var result: [Int: String] = [:]
                for v in live { for (root, by) in nonZero[v] where outRoots.contains(root) && result[root] == nil { result[root] = by } }
                return result
            }
            var readsChannels = graph.isChannelProducer(node)
            if case .conv(let a) = node.op, a.groups > 1, let x = live.first, a.groups == slots[x]?.count, a.groups == slots[out]?.count {
                // Depthwise: a non-zero removed channel comes out as a removed channel of the same
                // group (its own output channel), which the masks zero at the tail end.
                readsChannels = false
            }
            if readsChannels, let x = live.first, let xs = slots[x] {
                for s in xs {
                    if let by = nonZero[x][find(s)] {
                        block([s], "removed channels of '\(graph.values[x].name)' are not zero in the masked model (made non-zero by \(by)) where \(label) reads them")
                    }
                }
            }
            if tailEnds.contains(out) || graph.isChannelProducer(node) { continue }
            switch node.op {
            case .batchNormalization, .sigmoid, .hardSigmoid:
                nonZero[out] = all()
            case .clip(let lo, let hi):
                nonZero[out] = lo <= 0 && hi >= 0 ? carried() : all()
            case .pad(_, let mode, let value):
                nonZero[out] = mode == .constant && value != 0 ? all() : carried()
            case .add, .sub:
                let constant = node.inputs.first { graph.constants[$0] != nil }.flatMap { graph.constants[$0] }
                let broadcast = live.contains { (slots[$0]?.count ?? 0) == 1 } && outRoots.count > 1
                if let constant, !constant.storage.allSatisfy({ $0 == 0 }) { nonZero[out] = all() } else if broadcast { nonZero[out] = all() } else { nonZero[out] = carried() }
            case .mul:
                // Zero times anything is zero: non-zero only where every live operand may be.
                var result = carried()
                if live.count == 2 { result = result.filter { r in live.allSatisfy { nonZero[$0][r.key] != nil || !Set((slots[$0] ?? []).map(find)).contains(r.key) } } }
                nonZero[out] = result
            case .div:
                nonZero[out] = node.inputs.first.map { graph.constants[$0] == nil } == true ? carried() : all()
            default:
                nonZero[out] = carried()
            }
        }
    }
}

extension Operator {
    /// Operators whose semantics put channels on axis 1 (convolution, normalisation, pooling,
    /// dense layers): a value whose channels a layout operator moved to another axis cannot be
    /// followed through them.
    public var readsChannelsOnAxisOne: Bool {
        switch self {
        case .conv, .batchNormalization, .maxPool, .averagePool, .globalAveragePool, .gemm, .matMul: return true
        // Constants or windows laid out along axis 1 (a per-channel slope, exponent, scale; a
        // window across channels; a softmax row), or operand pairing the group analysis only
        // follows on axis 1: refused on moved channel axes rather than guessed.
        case .prelu, .pow, .variadic, .softmaxFamily, .instanceNormalization, .lrn, .resize, .convTranspose: return true
        default: return false
        }
    }
}
