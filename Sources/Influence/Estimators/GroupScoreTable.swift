/// Group scores, normalised within the groups that share a leading layer. Normalising needs every
/// group of that layer, so the first request for a layer computes them all and keeps them; with
/// `--normalize none` each score is computed on its own.
final class GroupScoreTable {
    let options: ProfileOptions
    /// Unnormalised channel scores: the reduction combines raw parts, as Torch-Pruning's does.
    let raw: [Int: [EstimatorKind: [Double]]]
    private var byLeader: [Int: [EstimatorKind: [Int: Double]]] = [:]

    init(options: ProfileOptions, rawChannelScores: [Int: [EstimatorKind: [Double]]]) {
        self.options = options
        self.raw = rawChannelScores
    }

    func score(_ g: Int, kind: EstimatorKind, estimators: Estimators) -> Double? {
        guard options.normalizer != .none else {
            return estimators.groupScore(g, kind: kind, reduction: options.groupReduction, channelScores: raw)
        }
        let groups = estimators.discovery.dependencies.groups
        guard let leader = groups[g].members.first?.producer else { return nil }
        if byLeader[leader]?[kind] == nil {
            let led = groups.indices.filter { groups[$0].members.first?.producer == leader }
            var ids: [Int] = [], values: [Double] = []
            for h in led {
                if let v = estimators.groupScore(h, kind: kind, reduction: options.groupReduction, channelScores: raw) { ids.append(h); values.append(v) }
            }
            byLeader[leader, default: [:]][kind] = Dictionary(uniqueKeysWithValues: zip(ids, options.normalizer.apply(values)))
        }
        return byLeader[leader]?[kind]?[g]
    }
}
