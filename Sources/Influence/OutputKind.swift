import Foundation
import NetworkIR

/// What the model's (selected) output holds for each input, so that every metric uses it for
/// what it is. A model exported with its final Softmax (every Keras export, many classifiers)
/// gives probabilities; taking a log-softmax of those again flattens every distribution and
/// shrinks every KL many times over, so the kind is read from the graph (or given with
/// `--output-kind`) and carried by `Baseline`.
public enum OutputKind: String, Sendable, CaseIterable, Codable {
    /// Unnormalised scores: probabilities are their softmax over the values of one input.
    case logits
    /// A Softmax output: taken as the probabilities themselves (not renormalised).
    case probabilities = "probs"
    /// A LogSoftmax output: taken as natural-log probabilities.
    case logProbabilities = "log-probs"

    /// The smallest probability a logarithm is taken of. A probability output can hold exact
    /// zeros (float32 Softmax underflows below about e^-103); log 0 would make KL infinite and
    /// 0·log 0 NaN, so probabilities are clamped to float32's smallest normal number
    /// (≈1.18e-38, log ≈ −87.3) before the logarithm. The oracle script clamps the same way.
    /// Log-probabilities from logits and log-probability outputs are clamped at the same floor,
    /// so a −inf output value cannot make 0·(−inf) = NaN either.
    public static let probabilityFloor = Double(Float.leastNormalMagnitude)

    /// Natural-log probabilities of one input's output values, in Double.
    ///
    /// A float32 Softmax row sums to 1 only up to rounding (a few 1e-8); KL computed from such
    /// rows carries that rounding of the total mass at first order, which swamps the KL of a
    /// weak channel (1e-7 nats). So probability rows are divided by their sum in Double first
    /// (a row that sums to 0 or not to a finite number is left as it is), and log-probability
    /// rows are normalised the same way — by a log-softmax, which is the identity on exact
    /// log-probabilities. The logarithm of a probability is clamped at `probabilityFloor`.
    public func logProbabilities<C: Collection>(_ row: C) -> [Double] where C.Element == Float {
        switch self {
        case .logits, .logProbabilities:
            let peak = row.reduce(-Double.infinity) { Swift.max($0, Double($1)) }
            let sum = row.reduce(0.0) { $0 + Foundation.exp(Double($1) - peak) }
            let logSum = peak + Foundation.log(sum)
            let floor = Foundation.log(Self.probabilityFloor)
            return row.map { Swift.max(Double($0) - logSum, floor) }
        case .probabilities:
            let sum = row.reduce(0.0) { $0 + Double($1) }
            let scale = sum > 0 && sum.isFinite ? 1 / sum : 1
            return row.map { Foundation.log(Swift.max(Double($0) * scale, Self.probabilityFloor)) }
        }
    }

    /// Probabilities of one input's output values (for `run`'s top-K): the softmax of logits, the
    /// values themselves for probabilities, exp of log-probabilities.
    public func probabilities<C: Collection>(_ row: C) -> [Double] where C.Element == Float {
        switch self {
        case .logits:
            let peak = row.reduce(-Double.infinity) { Swift.max($0, Double($1)) }
            let exps = row.map { Foundation.exp(Double($0) - peak) }
            let sum = exps.reduce(0, +)
            return exps.map { $0 / sum }
        case .probabilities: return row.map(Double.init)
        case .logProbabilities: return row.map { Foundation.exp(Double($0)) }
        }
    }

    /// The word `run` prints for what it shows.
    public var displayName: String {
        switch self {
        case .logits: "logits (probabilities are their softmax)"
        case .probabilities: "probabilities (the model ends in Softmax)"
        case .logProbabilities: "log-probabilities (the model ends in LogSoftmax; probabilities are their exp)"
        }
    }

    /// `--output-kind auto|logits|probs|log-probs`: nil for auto (read from the graph).
    public static func parse(_ text: String) throws(InfluenceError) -> OutputKind? {
        if text == "auto" { return nil }
        guard let kind = OutputKind(rawValue: text) else {
            throw InfluenceError("--output-kind: expected auto, logits, probs or log-probs, got '\(text)'")
        }
        return kind
    }

    /// `explicit` when given, otherwise what the graph's first output is (`detect`).
    public static func resolve(_ explicit: OutputKind?, graph: Graph) -> OutputKind {
        explicit ?? detect(graph)
    }

    /// The kind of the graph's first output, read from the node that makes it: a Softmax or
    /// LogSoftmax over the class axis, possibly followed by ops that only reshape (Reshape,
    /// Flatten, Squeeze, Unsqueeze; the importer already removed Identity), means probabilities
    /// or log-probabilities; anything else means logits.
    public static func detect(_ graph: Graph) -> OutputKind {
        finalNormalizer(graph)?.kind ?? .logits
    }

    /// The trailing Softmax/LogSoftmax node of the first output (see `detect`) and its kind.
    ///
    /// "Over the class axis" means the normalised axis holds every non-batch value of one input:
    /// all other non-batch dimensions of its input are 1 (so (N, K), SqueezeNet's (N, K, 1, 1)
    /// with axis 1). A per-pixel softmax (segmentation) is not a distribution over the output
    /// row the metrics compare, so it is not taken as one.
    public static func finalNormalizer(_ graph: Graph) -> (node: Int, kind: OutputKind)? {
        guard let output = graph.outputs.first else { return nil }
        let producers = graph.producers()
        var value = output
        while let index = producers[value] {
            let node = graph.nodes[index]
            switch node.op {
            case .reshape, .flatten, .squeeze, .unsqueeze:
                guard let input = node.inputs.first else { return nil }
                value = input
                continue
            default:
                break
            }
            let kind: OutputKind
            switch node.op.onnxName {
            case "Softmax": kind = .probabilities
            case "LogSoftmax": kind = .logProbabilities
            default: return nil
            }
            guard let input = node.inputs.first, let axis = normalizedAxis(node.op),
                  let shapes = try? graph.inferShapes(batch: 1), let shape = shapes[input] else { return nil }
            let a = axis < 0 ? axis + shape.count : axis
            guard a >= 1, a < shape.count else { return nil }
            let others = shape.indices.filter { $0 != 0 && $0 != a }.reduce(1) { $0 * shape[$1] }
            return others == 1 ? (index, kind) : nil
        }
        return nil
    }

    /// The axis attribute of a Softmax-like operator. Read by reflection so that operators added
    /// later with an `axis` payload (LogSoftmax) are understood without a list kept here.
    static func normalizedAxis(_ op: Operator) -> Int? {
        if case .softmax(let axis) = op { return axis }
        guard let payload = Mirror(reflecting: op).children.first?.value else { return nil }
        if let axis = payload as? Int { return axis }
        return Mirror(reflecting: payload).children.first { $0.label == "axis" }?.value as? Int
    }

    /// The graph whose first output is the logits behind a probability or log-probability
    /// output: the trailing Softmax/LogSoftmax is bypassed (its consumers — a Reshape or
    /// Flatten — and the graph output read its input instead). Losses that differentiate
    /// "through the model's own Softmax" are then computed on these logits: softmax
    /// cross-entropy of the logits equals −log of the model's probability, exactly.
    /// Returns nil when `kind` says probabilities but no such node exists to bypass, and the
    /// graph unchanged for logits.
    public static func logitsGraph(_ graph: Graph, kind: OutputKind) -> Graph? {
        guard kind != .logits else { return graph }
        guard let found = finalNormalizer(graph), found.kind == kind,
              let input = graph.nodes[found.node].inputs.first else { return nil }
        let index = found.node
        let removed = graph.nodes[index].outputs[0]
        // Only the reshaping chain to the output may read the probabilities: another reader
        // would silently get logits instead.
        for consumer in graph.consumers()[removed] {
            switch graph.nodes[consumer].op {
            case .reshape, .flatten, .squeeze, .unsqueeze: continue
            default: return nil
            }
        }
        var copy = graph
        copy.nodes.remove(at: index)
        for i in copy.nodes.indices {
            copy.nodes[i].inputs = copy.nodes[i].inputs.map { $0 == removed ? input : $0 }
        }
        copy.outputs = copy.outputs.map { $0 == removed ? input : $0 }
        return copy
    }
}
