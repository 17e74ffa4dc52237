import Execution
import Gradients
import NetworkIR

/// `--estimators taylor` over the whole data: Taylor scores per batch (cross-entropy with the
/// labels, or with the model's own top-1 class when there are none), averaged over inputs,
/// each batch weighted by its size. Channels get the activation form (Molchanov 2019: per input,
/// (Σ over the channel of activation × gradient)², averaged); groups the weight form
/// Σ|w·∂L/∂w| reduced over every part as Torch-Pruning's TaylorImportance does. On one batch
/// these are exactly TaylorScores' values (checked against Torch-Pruning and PyTorch).
public struct TaylorAccumulator: Sendable {
    public private(set) var channel: [Int: [Double]] = [:]
    public private(set) var group: [Int: Double] = [:]
    public private(set) var inputs = 0
    let reduction: GroupReduction
    let groups: Bool

    public init(reduction: GroupReduction, groups: Bool) {
        self.reduction = reduction
        self.groups = groups
    }

    /// Adds one batch. `logits` are the model's outputs of `outputKind` (their arg-max is the
    /// label when there are none); the loss is taken on the logits behind them (`TaylorScores`).
    public mutating func add(discovery: ItemDiscovery, input: Tensor, logits: Tensor, labels: [Int]?,
                             outputKind: OutputKind? = nil, threads: Int) throws {
        let n = input.shape[0]
        let classes = logits.count / max(n, 1)
        let targets = labels ?? (0..<n).map { i in
            let row = logits.storage[i * classes ..< (i + 1) * classes]
            return row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }! - i * classes
        }
        let scores = try TaylorScores(discovery: discovery, input: input, loss: .softmaxCrossEntropy(labels: targets),
                                      outputKind: outputKind, threads: threads)
        let w = Double(n)
        for (p, values) in scores.activationScores {
            var sum = channel[p] ?? [Double](repeating: 0, count: values.count)
            for (c, v) in values.enumerated() { sum[c] += v * w }
            channel[p] = sum
        }
        if groups {
            for g in discovery.dependencies.groups.indices {
                if let v = scores.groupScore(g, reduction: reduction) { group[g, default: 0] += v * w }
            }
        }
        inputs += n
    }

    public func channelScores(producer: Int) -> [Double]? {
        guard inputs > 0 else { return nil }
        return channel[producer].map { $0.map { $0 / Double(inputs) } }
    }

    public func groupScore(_ g: Int) -> Double? {
        guard inputs > 0 else { return nil }
        return group[g].map { $0 / Double(inputs) }
    }
}
