import ChannelGroups
import NetworkIR

/// Finds the items of a graph and what removing each would save.
public struct ItemDiscovery: Sendable {
    public let graph: Graph
    public let tails: [ChannelTail]
    public let dependencies: DependencyAnalysis
    let cost: ModelCost
    let shapes: [[Int]?]
    let consumers: [[Int]]
    /// Position of each producer's tail in `tails`.
    let tailIndex: [Int: Int]
    /// First node of each channel permutation (shuffle) → the value it ends in.
    let permutationEnd: [Int: ValueID]

    public init(graph: Graph) throws(GraphError) {
        self.graph = graph
        self.tails = try graph.channelTails()
        self.dependencies = try DependencyAnalysis(graph: graph)
        self.cost = try graph.cost(batch: 1)
        self.shapes = try graph.inferShapes(batch: 1)
        self.consumers = graph.consumers()
        var index: [Int: Int] = [:]
        for (i, t) in tails.enumerated() { index[t.producer] = i }
        self.tailIndex = index
        self.permutationEnd = Dictionary(uniqueKeysWithValues: try graph.channelPermutations().map { ($0.nodes[0], $0.output) })
    }

    public func tail(ofProducer producer: Int) -> ChannelTail? { tailIndex[producer].map { tails[$0] } }

    /// Items of the given kinds, for producers whose node name matches `layerPattern` (globs
    /// separated by commas), in a
    /// fixed order: kinds in the order given, then node order, then channel.
    public func items(kinds: [ItemKind], layerPattern: String?) -> [InfluenceItem] {
        var result: [InfluenceItem] = []
        let patterns = layerPattern.map { $0.split(separator: ",").map(String.init) }
        let selected = tails.filter { t in patterns == nil || patterns!.contains { globMatches($0, graph.nodes[t.producer].name) } }
        for kind in kinds {
            switch kind {
            case .channel:
                for t in selected {
                    let node = graph.nodes[t.producer]
                    let saving = channelSaving(t, channels: 1)
                    for c in 0..<t.channels {
                        result.append(InfluenceItem(id: "\(node.name)#\(c)", index: 0, kind: .channel, layer: node.name,
                                                    output: graph.values[t.output].name, channel: c,
                                                    group: dependencies.groupOfChannel[t.producer]?[c],
                                                    params: saving.params, macs: saving.macs, producers: [t.producer], producerChannels: [[c]]))
                    }
                }
            case .group:
                let chosen = Set(selected.map(\.producer))
                for (g, group) in dependencies.groups.enumerated() where group.members.contains(where: { chosen.contains($0.producer) }) {
                    var byProducer: [Int: [Int]] = [:]
                    for m in group.members { byProducer[m.producer, default: []].append(m.channel) }
                    let producers = byProducer.keys.sorted()
                    var params = 0, macs = 0
                    for p in producers {
                        if let t = tail(ofProducer: p) {
                            let s = channelSaving(t, channels: byProducer[p]!.count)
                            params += s.params; macs += s.macs
                        }
                    }
                    let first = group.members[0]
                    result.append(InfluenceItem(id: "group:\(g)", index: 0, kind: .group, layer: graph.nodes[first.producer].name,
                                                output: graph.values[graph.nodes[first.producer].outputs[0]].name, channel: nil, group: g,
                                                params: params, macs: macs, producers: producers, producerChannels: producers.map { byProducer[$0]! }))
                }
            case .layer:
                for t in selected {
                    let node = graph.nodes[t.producer]
                    let layerCost = cost.layers.first { $0.name == node.name }
                    result.append(InfluenceItem(id: "layer:\(node.name)", index: 0, kind: .layer, layer: node.name,
                                                output: graph.values[t.output].name, channel: nil, group: nil,
                                                params: layerCost?.params ?? 0, macs: layerCost?.macs ?? 0,
                                                producers: [t.producer], producerChannels: [Array(0..<t.channels)]))
                }
            case .tensor:
                for t in selected {
                    let node = graph.nodes[t.producer]
                    for v in node.inputs.dropFirst() where graph.constants[v] != nil {
                        let tensor = graph.constants[v]!
                        result.append(InfluenceItem(id: "tensor:\(graph.values[v].name)", index: 0, kind: .tensor, layer: node.name,
                                                    output: graph.values[t.output].name, channel: nil, group: nil,
                                                    params: tensor.count, macs: 0, producers: [t.producer], producerChannels: [Array(0..<t.channels)]))
                    }
                }
            }
        }
        for i in result.indices { result[i].index = i }
        return result
    }

    /// The nodes that read `value`, looking through Transposes (an NHWC export puts one between a
    /// tail end and the next Conv) and channel shuffles, so savings count the layers that really
    /// lose input channels.
    func readers(of value: ValueID) -> [Int] {
        var result: [Int] = []
        var pending = consumers[value]
        var seen = Set<Int>()
        while let j = pending.popLast() {
            guard seen.insert(j).inserted else { continue }
            if case .transpose = graph.nodes[j].op { pending += consumers[graph.nodes[j].outputs[0]] } else if let end = permutationEnd[j] {
                pending += consumers[end]
            } else { result.append(j) }
        }
        return result.sorted()
    }

    /// Parameters and MACs that removing `channels` output channels of a producer saves: its
    /// filters, bias and tail BatchNormalization parameters, plus each consumer's weights and MACs
    /// for those input channels (a depthwise consumer loses its whole filter).
    func channelSaving(_ t: ChannelTail, channels removed: Int) -> (params: Int, macs: Int) {
        let node = graph.nodes[t.producer]
        var params = 0, macs = 0
        let outShape = shapes[t.output] ?? []
        if case .conv = node.op, let w = graph.constants[node.inputs[1]] {
            let perFilter = w.count / max(w.shape[0], 1)
            params += removed * (perFilter + (node.inputs.count > 2 ? 1 : 0))
            macs += removed * perFilter * (outShape.count == 4 ? outShape[0] * outShape[2] * outShape[3] : 1)
        } else if let w = graph.constants[node.inputs[1]] {
            let k = w.count / max(t.channels, 1)
            params += removed * (k + (node.inputs.count > 2 ? 1 : 0))
            macs += removed * k * (outShape.first ?? 1)
        }
        for j in t.nodes where graph.nodes[j].op.onnxName == "BatchNormalization" { params += 2 * removed }
        for j in readers(of: t.end) {
            let consumer = graph.nodes[j]
            guard let w = consumer.inputs.count > 1 ? graph.constants[consumer.inputs[1]] : nil else { continue }
            let cOut = shapes[consumer.outputs[0]] ?? []
            switch consumer.op {
            case .conv(let a):
                let spatial = cOut.count == 4 ? cOut[0] * cOut[2] * cOut[3] : 1
                let perInput = (w.shape[0] / a.groups) * a.kernel[0] * a.kernel[1]
                params += removed * perInput
                macs += removed * perInput * spatial
            case .gemm, .matMul:
                let k = shapes[consumer.inputs[0]]?.last ?? 1
                let perChannel = k / max(t.channels, 1)
                let out = cOut.last ?? 1
                params += removed * perChannel * out
                macs += removed * perChannel * out * (cOut.first ?? 1)
            default: break
            }
        }
        return (params, macs)
    }
}
