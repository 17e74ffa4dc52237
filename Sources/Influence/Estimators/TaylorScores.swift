import ChannelGroups
import Gradients
import NetworkIR

/// First-order Taylor importance from one batch's gradients (Molchanov et al. 2017, 2019), in its
/// two forms:
///
/// - weight form, as Torch-Pruning 1.6's `TaylorImportance`: a channel's part of a layer scores
///   Σ|w·∂L/∂w| over the weights removing it deletes (its filter, or a reader's input slice); a
///   group reduces its parts like the magnitude estimators (`Estimators.groupScore`), except that
///   BatchNormalization is not a part (Torch-Pruning 1.6's Taylor scores only Conv and Linear
///   weights) and depthwise convolutions are not scored (as for the magnitudes);
/// - activation form: per channel of a producer's output a, mean over samples n of
///   (Σ_{spatial} a_n · ∂L_n/∂a_n)², with L_n sample n's own loss. The losses average over the
///   batch and samples do not interact (inference BatchNormalization), so ∂L_n/∂a_n = N · ∂L/∂a_n.
///
/// Not wired into `weakspot profile` yet; a library API.
public struct TaylorScores: Sendable {
    /// Per producer node and channel: Σ|w·∂L/∂w| over the channel's filter.
    public let weightScores: [Int: [Double]]
    /// Per producer node and output channel: the activation form.
    public let activationScores: [Int: [Double]]
    public let loss: Double
    /// Estimators over a copy of the graph whose Conv/Gemm/MatMul weights are replaced by w⊙∂L/∂w:
    /// its L1 filter norms and reader slices are then the Taylor parts.
    let products: Estimators

    /// `loss` is taken on logits: for a model whose output is probabilities or log-probabilities
    /// (`outputKind`, nil = read from the graph) the gradients run on the graph without its final
    /// Softmax/LogSoftmax (`OutputKind.logitsGraph`), which is the same loss differentiated
    /// through the model's own Softmax.
    public init(discovery: ItemDiscovery, input: Tensor, loss: Loss, outputKind: OutputKind? = nil, threads: Int = 1) throws {
        let graph = discovery.graph
        let kind = OutputKind.resolve(outputKind, graph: graph)
        guard let lossGraph = OutputKind.logitsGraph(graph, kind: kind) else {
            throw InfluenceError("taylor: the output is taken as \(kind.rawValue) but the graph has no final Softmax/LogSoftmax to differentiate through; give --output-kind logits")
        }
        let engine = try GraphGradients(graph: lossGraph, threads: threads)
        let outputs = Set(discovery.tails.map { graph.nodes[$0.producer].outputs[0] })
        let result = try engine.gradients(input: input, loss: loss, activations: outputs)
        self.loss = result.loss

        var productGraph = graph
        for node in graph.nodes {
            switch node.op {
            case .conv, .gemm, .matMul:
                let id = node.inputs[1]
                if let w = graph.constants[id], let g = result.constants[id] {
                    productGraph.constants[id] = Tensor(shape: w.shape, storage: zip(w.storage, g.storage).map { $0 * $1 })
                }
            default: break
            }
        }
        products = Estimators(discovery: try ItemDiscovery(graph: productGraph))
        var weights: [Int: [Double]] = [:], activations: [Int: [Double]] = [:]
        let batch = Double(input.shape.first ?? 1)
        for t in discovery.tails {
            weights[t.producer] = products.filterNorms(producer: t.producer, power: 1)
            let id = graph.nodes[t.producer].outputs[0]
            guard let a = result.record.values[id], let g = result.activations[id], a.rank >= 2 else { continue }
            let (n, c) = (a.shape[0], a.shape[1])
            let inner = a.count / max(n * c, 1)
            var scores = [Double](repeating: 0, count: c)
            for s in 0..<n {
                for ch in 0..<c {
                    var dot = 0.0
                    let base = (s * c + ch) * inner
                    for i in 0..<inner { dot += Double(a.storage[base + i]) * Double(g.storage[base + i]) }
                    dot *= batch
                    scores[ch] += dot * dot / Double(n)
                }
            }
            activations[t.producer] = scores
        }
        weightScores = weights
        activationScores = activations
    }

    /// The weight-form score of dependency group `g` (nil when it has nothing to score).
    public func groupScore(_ g: Int, reduction: GroupReduction) -> Double? {
        let graph = products.graph
        let dependencies = products.discovery.dependencies
        var parts: [Double] = []
        for m in dependencies.groups[g].members where !products.isDepthwise(graph.nodes[m.producer]) {
            if let s = weightScores[m.producer], m.channel < s.count { parts.append(s[m.channel]) }
        }
        for r in dependencies.readers[g] where !products.isDepthwise(graph.nodes[r.node]) {
            if let v = products.readerSlice(r, power: 1) { parts.append(v) }
        }
        return reduction.reduce(parts)
    }

    /// The activation-form score of group `g`: its members' channel scores reduced.
    public func groupActivationScore(_ g: Int, reduction: GroupReduction) -> Double? {
        let members = products.discovery.dependencies.groups[g].members
        return reduction.reduce(members.compactMap { m in
            activationScores[m.producer].flatMap { m.channel < $0.count ? $0[m.channel] : nil }
        })
    }
}
