import ChannelGroups
import Influence
import NetworkIR
import Support

/// One dependency group the planner may remove: what it costs to keep, what removing it did
/// when measured alone, and the score that orders it.
public struct GroupCandidate: Sendable, Equatable {
    public var group: Int
    public var layerGroup: Int
    public var producers: [Int]
    /// What removing it alone saves (batch 1), from the item discovery.
    public var macs: Int
    public var params: Int
    /// Its single-removal metrics from the report (`metrics`), when the report measured it.
    public var measured: [String: Double]
    /// Lower = removed first.
    public var score: Double
}

/// Builds the candidates: prunable groups, not kept, scored by the criterion.
public enum GroupCandidates {
    /// Measured influence per unit of what the target counts (MACs stand in for latency), so a
    /// cheap-to-keep group is not removed for a small saving; a group that saves nothing goes last.
    static func score(influence: Double, macs: Int, params: Int, target: PlanTarget?) -> Double {
        var cost = Double(macs)
        if case .params? = target { cost = Double(params) }
        return cost > 0 ? influence / cost : .infinity
    }

    static func score(influence: Double, candidate c: GroupCandidate, target: PlanTarget?) -> Double {
        score(influence: influence, macs: c.macs, params: c.params, target: target)
    }

    /// `report`: a weakspot.report/1 of the same model with group items (needed for `measured`).
    /// `taylor`: Taylor group scores over the plan's data, for `--criterion taylor`.
    public static func build(discovery: ItemDiscovery, layerGroups: [LayerGroup], report: JSONValue?,
                             options: PlanOptions, taylor: TaylorAccumulator? = nil) throws(PlanError) -> [GroupCandidate] {
        let graph = discovery.graph
        let groups = discovery.dependencies.groups
        var layerGroupOf = [Int](repeating: -1, count: groups.count)
        for lg in layerGroups { for g in lg.dependencyGroups { layerGroupOf[g] = lg.id } }
        let firstLayers = Set(graph.nodes.indices.filter { i in graph.nodes[i].inputs.contains { v in graph.inputs.contains { $0.value == v } } })
        func kept(_ producer: Int) -> Bool {
            if !options.pruneFirst && firstLayers.contains(producer) { return true }
            return options.keep.contains { globMatches($0, graph.nodes[producer].name) }
        }
        if options.criterion == .measured, let report, !ProfileReport.isMeasured(report) {
            throw PlanError(ReportWarnings.estimatesOnlyRefusal(command: "plan --criterion measured"))
        }
        var measuredByGroup: [Int: (influence: Double, metrics: [String: Double])] = [:]
        let items: [ReportItem]
        do throws(InfluenceError) { items = try report.map { (r: JSONValue) throws(InfluenceError) in try ReportItem.all(of: r) } ?? [] } catch { throw PlanError(error.description) }
        for item in items where item.kind == .group {
            // A group whose influence is not finite (null) has no measurement to rank by.
            guard let g = item.group, let mean = item.influence?.mean else { continue }
            measuredByGroup[g] = (mean, item.metrics)
        }
        let estimators = Estimators(discovery: discovery)
        let kinds: [EstimatorKind] = [.l1, .l2, .bn]
        let channelScores = options.criterion == .measured || options.criterion == .taylor ? [:] : estimators.channelScores(kinds: kinds)
        if options.criterion == .taylor && taylor == nil { throw PlanError("--criterion taylor needs --data (gradients over the inputs)") }
        let savings = Dictionary(uniqueKeysWithValues: discovery.items(kinds: [.group], layerPattern: nil).compactMap { item in
            item.group.map { ($0, (item.macs, item.params)) }
        })
        var result: [GroupCandidate] = []
        for (g, group) in groups.enumerated() where group.prunable {
            let producers = Array(Set(group.members.map(\.producer))).sorted()
            if producers.contains(where: kept) { continue }
            let (macs, params) = savings[g] ?? (0, 0)
            let measured = measuredByGroup[g]
            let score: Double
            switch options.criterion {
            case .measured:
                // Only what was measured is planned: a report of some layers plans those layers.
                guard let m = measured else { continue }
                score = Self.score(influence: m.influence, macs: macs, params: params, target: options.target)
            case .taylor:
                score = taylor?.groupScore(g) ?? .infinity
            case .l1, .l2, .bn:
                let kind = EstimatorKind(rawValue: options.criterion.rawValue)!
                score = estimators.groupScore(g, kind: kind, reduction: .mean, channelScores: channelScores) ?? .infinity
            case .mse:
                throw PlanError("--criterion mse ranks quantization widths: add --quantize")
            }
            result.append(GroupCandidate(group: g, layerGroup: layerGroupOf[g], producers: producers, macs: macs, params: params,
                                         measured: measured?.metrics ?? [:], score: score))
        }
        if options.criterion == .measured && result.isEmpty {
            throw PlanError("the report measures no prunable group: profile with --items groups (or plan with --criterion l1)")
        }
        // Deterministic: by score, then group id.
        return result.sorted { $0.score != $1.score ? $0.score < $1.score : $0.group < $1.group }
    }
}
