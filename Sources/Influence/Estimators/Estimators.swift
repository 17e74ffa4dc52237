import ChannelGroups
import NetworkIR
import Support

/// Cheap importance criteria that need no ablation (`--estimators`), the ones pruning tools rank
/// by. Filter norms follow Torch-Pruning's MagnitudeImportance: `l1` = Σ|w|, `l2` = Σw² (its p = 2
/// sums squares, no root); `bn` = |γ| of the BatchNormalization in the channel's tail. `apoz` and
/// `meanact` come from the unperturbed forward pass (ActivationStatistics); `random` is the
/// baseline every criterion must beat.
public enum EstimatorKind: String, Sendable, CaseIterable {
    case l1, l2, bn, apoz, meanact, taylor, random

    /// APoZ is the one criterion where a larger value means a less important channel; agreement
    /// and the latent rule compare its negation.
    public var higherMeansImportant: Bool { self != .apoz }

    /// Needs a pass over the data (not only the weights).
    public var needsActivations: Bool { self == .apoz || self == .meanact }
    /// Needs gradients: a forward and a backward pass over the data.
    public var needsGradients: Bool { self == .taylor }

    /// What computing it costs, for recommending the cheapest estimator that is good enough:
    /// 0 free, 1 the weights, 2 a forward pass over the data, 3 a forward and a backward pass.
    public var cost: Int {
        switch self {
        case .random: return 0
        case .l1, .l2, .bn: return 1
        case .apoz, .meanact: return 2
        case .taylor: return 3
        }
    }

    /// The score as "larger = more important".
    func oriented(_ value: Double) -> Double { higherMeansImportant ? value : -value }
}

/// How a group's score combines its parts (`--group-reduction`).
public enum GroupReduction: String, Sendable, CaseIterable {
    case sum, mean, max

    func reduce(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        switch self {
        case .sum: return values.reduce(0, +)
        case .mean: return values.reduce(0, +) / Double(values.count)
        case .max: return values.max()
        }
    }
}

/// Estimator scores per channel and per dependency group.
///
/// A group's score reduces the scores of every part that removing the group deletes, as
/// Torch-Pruning does: each member's filter (out), each reader's input slice (in: the weights of a
/// consumer Conv or Gemm for that channel), and each member's BatchNormalization scale. Depthwise
/// convolutions are not scored (Torch-Pruning 1.6 does not score them either); they are still
/// removed with the group.
public struct Estimators: Sendable {
    let graph: Graph
    let discovery: ItemDiscovery
    /// |γ| per producer with a BatchNormalization in its tail.
    let batchNormScaleTable: [Int: [Double]]
    let activations: ActivationStatistics?
    let taylor: TaylorAccumulator?
    let seed: UInt64

    public init(discovery: ItemDiscovery, activations: ActivationStatistics? = nil, taylor: TaylorAccumulator? = nil, seed: UInt64 = 0) {
        self.graph = discovery.graph
        self.discovery = discovery
        self.activations = activations
        self.taylor = taylor
        self.seed = seed
        var table: [Int: [Double]] = [:]
        for t in discovery.tails {
            for j in t.nodes {
                if case .batchNormalization = graph.nodes[j].op, let gamma = graph.constants[graph.nodes[j].inputs[1]] {
                    table[t.producer] = gamma.storage.map { Double(abs($0)) }
                    break
                }
            }
        }
        self.batchNormScaleTable = table
    }

    func isDepthwise(_ node: Node) -> Bool {
        guard case .conv(let a) = node.op, let w = graph.constants[node.inputs[1]] else { return false }
        return a.groups > 1 && w.shape[1] == 1 && a.groups == w.shape[0]
    }

    /// Σ|w|^p over each output channel's filter (p = 1 or 2), for a Conv, Gemm or MatMul producer.
    public func filterNorms(producer: Int, power: Int) -> [Double] {
        let node = graph.nodes[producer]
        guard let w = graph.constants[node.inputs[1]], let channels = discovery.tail(ofProducer: producer)?.channels else { return [] }
        var norms = [Double](repeating: 0, count: channels)
        func add(_ c: Int, _ v: Float) { let a = Double(abs(v)); norms[c] += power == 1 ? a : a * a }
        if case .conv = node.op {
            let per = w.count / channels
            for c in 0..<channels { for k in 0..<per { add(c, w.storage[c * per + k]) } }
        } else {
            let outputsAreRows: Bool = { if case .gemm(_, _, _, let t) = node.op { return t }; return false }()
            let (rows, cols) = (w.shape[0], w.shape[1])
            for r in 0..<rows { for c in 0..<cols { add(outputsAreRows ? r : c, w.storage[r * cols + c]) } }
        }
        return norms
    }

    /// |γ| of the first BatchNormalization in the producer's tail, or nil when there is none.
    public func batchNormScales(producer: Int) -> [Double]? { batchNormScaleTable[producer] }

    /// Σ|w|^p over the weights a reader applies to one input channel or feature.
    func readerSlice(_ reader: GroupReader, power: Int) -> Double? {
        let node = graph.nodes[reader.node]
        guard let w = graph.constants[node.inputs[1]] else { return nil }
        var total = 0.0
        func add(_ v: Float) { let a = Double(abs(v)); total += power == 1 ? a : a * a }
        switch node.op {
        case .conv(let a):
            // Input channel i of a grouped conv is column i mod (Cin/g) of its group's filters.
            let (o, c) = (w.shape[0], w.shape[1])
            let k = w.count / (o * c)
            let groups = max(a.groups, 1), perGroup = o / groups
            guard reader.input < c * groups else { return nil }
            let group = reader.input / c, column = reader.input % c
            for oc in group * perGroup ..< (group + 1) * perGroup { for t in 0..<k { add(w.storage[(oc * c + column) * k + t]) } }
        case .gemm(_, _, _, let transB):
            let (rows, cols) = (w.shape[0], w.shape[1])
            if transB { guard reader.input < cols else { return nil }; for r in 0..<rows { add(w.storage[r * cols + reader.input]) } }
            else { guard reader.input < rows else { return nil }; for c in 0..<cols { add(w.storage[reader.input * cols + c]) } }
        case .matMul:
            let cols = w.shape[1]
            guard reader.input < w.shape[0] else { return nil }
            for c in 0..<cols { add(w.storage[reader.input * cols + c]) }
        default:
            return nil
        }
        return total
    }

    /// Per-channel scores of every producer: [producer: [kind: scores]].
    public func channelScores(kinds: [EstimatorKind]) -> [Int: [EstimatorKind: [Double]]] {
        var result: [Int: [EstimatorKind: [Double]]] = [:]
        for t in discovery.tails {
            var scores: [EstimatorKind: [Double]] = [:]
            for kind in kinds {
                switch kind {
                case .l1: scores[.l1] = filterNorms(producer: t.producer, power: 1)
                case .l2: scores[.l2] = filterNorms(producer: t.producer, power: 2)
                case .bn: if let b = batchNormScales(producer: t.producer) { scores[.bn] = b }
                case .apoz: if let a = activations?.apoz(producer: t.producer) { scores[.apoz] = a }
                case .meanact: if let a = activations?.meanActivation(producer: t.producer) { scores[.meanact] = a }
                case .random: scores[.random] = randomScores(producer: t.producer, channels: t.channels)
                case .taylor: if let a = taylor?.channelScores(producer: t.producer) { scores[.taylor] = a }
                }
            }
            result[t.producer] = scores
        }
        return result
    }

    /// Uniform [0, 1) per channel, seeded by the run's seed and the layer's name: the same on
    /// every shard and resume, different per layer.
    func randomScores(producer: Int, channels: Int) -> [Double] {
        var rng = SplitMix64(seed: seed ^ stableHash("random|" + graph.nodes[producer].name))
        return (0..<channels).map { _ in Double(rng.next() >> 11) / Double(1 << 53) }
    }

    /// The score of dependency group `g`, or nil when it has nothing to score.
    public func groupScore(_ g: Int, kind: EstimatorKind, reduction: GroupReduction, channelScores: [Int: [EstimatorKind: [Double]]]) -> Double? {
        let group = discovery.dependencies.groups[g]
        var parts: [Double] = []
        if kind == .taylor { return taylor?.groupScore(g) }
        if kind.needsActivations || kind == .random {
            // Activation and random scores belong to the members' channels only.
            for m in group.members { if let s = channelScores[m.producer]?[kind], m.channel < s.count { parts.append(s[m.channel]) } }
            return reduction.reduce(parts)
        }
        let power = kind == .l2 ? 2 : 1
        for m in group.members {
            let node = graph.nodes[m.producer]
            if kind != .bn && !isDepthwise(node), let filters = channelScores[m.producer]?[kind], m.channel < filters.count {
                parts.append(filters[m.channel])
            }
            if let gamma = batchNormScales(producer: m.producer), m.channel < gamma.count {
                parts.append(power == 2 ? gamma[m.channel] * gamma[m.channel] : gamma[m.channel])
            }
        }
        if kind != .bn {
            for r in discovery.dependencies.readers[g] where !isDepthwise(graph.nodes[r.node]) {
                if let v = readerSlice(r, power: power) { parts.append(v) }
            }
        }
        return reduction.reduce(parts)
    }
}
