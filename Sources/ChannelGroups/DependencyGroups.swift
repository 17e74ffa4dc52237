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
/// tied by residual Adds, Mul/Sub/Div between activations (squeeze-excite), Concat offsets and
/// depthwise convolutions.
public struct DependencyGroup: Sendable, Equatable {
    /// Producer channels in the group, ordered by node, then channel.
    public var members: [GroupMember]
    /// False when a channel of the group reaches an operator through which WeakSpot cannot follow
    /// channels (a Transpose, a Reshape that mixes channels, a graph output): the planner must
    /// keep such groups.
    public var prunable: Bool
}

/// The dependency analysis: every activation's channel axis is a list of slots; producers create
/// fresh slots, per-channel operators pass them on, merging operators unite them slot by slot,
/// Concat joins the lists, Flatten repeats each slot over the spatial positions. Groups are the
/// classes of united producer slots.
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
            if ra != rb { parent[max(ra, rb)] = min(ra, rb); blocked[min(ra, rb)] = blocked[ra] || blocked[rb] }
        }
        func block(_ slots: [Int]) { for s in slots { blocked[find(s)] = true } }

        var slots = [[Int]?](repeating: nil, count: graph.values.count)
        var readerSlots: [(node: Int, slots: [Int])] = []
        for input in graph.inputs {
            let c = input.shape(batch: 1).count >= 2 ? input.shape(batch: 1)[1] : 1
            let fresh = (0..<c).map { _ in newSlot(nil) }
            block(fresh)
            slots[input.value] = fresh
        }
        for (index, node) in graph.nodes.enumerated() {
            let out = node.outputs[0]
            let ins = node.inputs.map { graph.constants[$0] == nil ? slots[$0] : nil }
            let outShape = shapes[out] ?? []
            let outChannels = outShape.count >= 2 ? outShape[1] : 1
            switch node.op {
            case .conv(let a):
                let fresh = (0..<outChannels).map { newSlot(GroupMember(producer: index, channel: $0)) }
                if a.groups == 1, let input = ins[0] { readerSlots.append((index, input)) }
                if let input = ins[0], a.groups > 1 {
                    if a.groups == input.count && a.groups == outChannels {
                        for c in 0..<outChannels { unite(fresh[c], input[c]) }
                    } else {
                        // Grouped (not depthwise) convolution: channels are tied within groups in a
                        // way the planner does not prune through.
                        block(input); block(fresh)
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
                if case .softmax(let axis) = node.op, axis == 1, let s = ins[0] { block(s) }
                if case .pad(let pads, _, _) = node.op, pads.count >= 4, pads[1] != 0 || pads[1 + pads.count / 2] != 0, let s = ins[0] { block(s) }
                slots[out] = ins[0]
            case .add, .sub, .mul, .div:
                let live = ins.compactMap { $0 }
                if live.count == 2, live[0].count == live[1].count {
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
                if axis == 1 {
                    slots[out] = ins.flatMap { $0 ?? [] }
                    if slots[out]!.count != outChannels { slots[out] = (0..<outChannels).map { _ in newSlot(nil) } }
                } else {
                    for s in ins.compactMap({ $0 }) { block(s) }
                    slots[out] = (0..<outChannels).map { _ in newSlot(nil) }
                    block(slots[out]!)
                }
            case .flatten, .reshape, .squeeze, .unsqueeze:
                // Keeps channel identity when the channel axis stays axis 1 and only trailing axes
                // fold into it (N,C,H,W → N,C·H·W): each channel repeats over H·W features.
                let inShape = shapes[node.inputs[0]] ?? []
                if let s = ins[0], inShape.count >= 2, outShape.count >= 2, outShape[0] == inShape[0],
                   outShape[1] % max(inShape[1], 1) == 0, outShape[1...].reduce(1, *) == inShape[1...].reduce(1, *),
                   outShape[1] == inShape[1...].reduce(1, *) || outShape[1] == inShape[1] {
                    let repeatCount = outShape[1] / max(inShape[1], 1)
                    slots[out] = s.flatMap { [Int](repeating: $0, count: repeatCount) }
                } else {
                    if let s = ins[0] { block(s) }
                    slots[out] = (0..<outChannels).map { _ in newSlot(nil) }
                    block(slots[out]!)
                }
            case .reduceMean(let axes, _):
                if axes.contains(1), let s = ins[0] { block(s) }
                slots[out] = ins[0]
            case .unary, .prelu, .pow:
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
            case .transpose, .slice, .lrn, .resize, .convTranspose, .reduceSum, .reduceMax, .expand, .tile, .whereSelect, .compare:
                // Mixes channels (LRN, ConvTranspose, a reduction over them) or is not followed by
                // the pruner (docs/plan.md, "Structural operators"): such channels stay.
                for s in ins.compactMap({ $0 }) { block(s) }
                slots[out] = (0..<outChannels).map { _ in newSlot(nil) }
                block(slots[out]!)
            }
        }
        for o in graph.outputs { if let s = slots[o] { block(s) } }

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
            groups.append(DependencyGroup(members: members, prunable: !blocked[entry.key]))
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
