/// Per-layer normalisation of estimator scores (`--normalize`), so that one global ranking can
/// compare layers whose weights live on different scales — the options Torch-Pruning offers its
/// importances. Applied to a channel's score within its layer, and to a group's score within the
/// groups led by the same layer.
public enum ScoreNormalizer: String, Sendable, CaseIterable {
    /// Raw scores.
    case none
    /// Divided by the layer's largest score.
    case max
    /// Divided by the layer's mean score.
    case mean
    /// Divided by the L2 norm of the layer's scores.
    case l2
    /// LAMP (Lee et al. 2021) as Torch-Pruning applies it: in ascending order, each score divided
    /// by the sum of itself and every larger score of the layer.
    case lamp

    public func apply(_ scores: [Double]) -> [Double] {
        guard !scores.isEmpty else { return scores }
        func divided(by d: Double) -> [Double] { d > 0 && d.isFinite ? scores.map { $0 / d } : scores }
        switch self {
        case .none: return scores
        case .max: return divided(by: scores.max()!)
        case .mean: return divided(by: scores.reduce(0, +) / Double(scores.count))
        case .l2: return divided(by: scores.reduce(0) { $0 + $1 * $1 }.squareRoot())
        case .lamp:
            let order = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] < scores[$1] : $0 < $1 }
            var result = scores
            var tail = 0.0
            for i in order.reversed() {
                tail += scores[i]
                result[i] = tail > 0 ? scores[i] / tail : 0
            }
            return result
        }
    }
}
