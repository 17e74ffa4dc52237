import Foundation
import ChannelGroups
import Influence
import NetworkIR

/// The planner's answer: which dependency groups to remove, what that costs, and what it does
/// (`figures`, whose fields read as the result's own).
@dynamicMemberLookup
public struct PlanResult: Sendable {
    public var removed: [Int]
    public var before: ModelCost
    public var after: ModelCost
    public var figures: PlanFigures

    public subscript<T>(dynamicMember path: KeyPath<PlanFigures, T>) -> T { figures[keyPath: path] }
}

/// Plain number text for progress lines.
enum NumberTextPlain {
    static func format(_ v: Double) -> String { v.rounded() == v && abs(v) < 1e15 ? String(Int(v)) : String(format: "%.3f", v) }
}

/// Chooses groups to remove under a target and limits.
///
/// Candidates are taken in score order (measured influence per MAC or parameter saved, or an
/// estimator's score); a candidate is admitted while every producer it touches keeps enough
/// channels (`--min-channels`, `--max-layer-sparsity`, never all of a layer group). The target
/// is met by the shortest prefix of admitted candidates whose exact cost — the physically pruned
/// model's, counted — is within it (binary search: cost falls as the prefix grows). Limits are
/// then checked by measuring the masked model; when one is exceeded the prefix shrinks (binary
/// search again) to the longest one that holds. `--round-to M` rounds each layer group's kept
/// channels up to a multiple of M inside every evaluation. `--uniform` instead removes the same
/// fraction of every layer group (the lowest-scored channels of each).
public struct Planner {
    public let discovery: ItemDiscovery
    public let layerGroups: [LayerGroup]
    public let candidates: [GroupCandidate]
    public let options: PlanOptions
    /// The cost of the model with these dependency groups removed (the pruner, counted).
    public let exactCost: (Set<Int>) throws -> ModelCost
    public let verifier: PlanVerifier?
    /// `--target latency=F`: the pruned model's measured forward time (ms) with these groups removed.
    public var latency: ((Set<Int>) throws -> Double)? = nil

    public init(discovery: ItemDiscovery, layerGroups: [LayerGroup], candidates: [GroupCandidate], options: PlanOptions,
                exactCost: @escaping (Set<Int>) throws -> ModelCost, verifier: PlanVerifier?) {
        self.discovery = discovery
        self.layerGroups = layerGroups
        self.candidates = candidates
        self.options = options
        self.exactCost = exactCost
        self.verifier = verifier
    }

    /// How many channels each producer may lose.
    func removalCaps() -> [Int: Int] {
        var caps: [Int: Int] = [:]
        for t in discovery.tails {
            let floorKept = max(options.minChannels, Int((Double(t.channels) * (1 - options.maxLayerSparsity)).rounded(.up)), 1)
            caps[t.producer] = max(0, t.channels - floorKept)
        }
        return caps
    }

    /// `fixed` (already chosen, in order) followed by `pool` in the order its candidates may be
    /// removed, skipping those that would break a cap.
    func admitted(after fixed: [GroupCandidate] = [], pool: [GroupCandidate]? = nil) -> [GroupCandidate] {
        var room = removalCaps()
        for c in fixed { for p in c.producers { room[p, default: 0] -= 1 } }
        if options.uniform { return fixed + uniformOrder(room: room) }
        let taken = Set(fixed.map(\.group))
        var result = fixed
        for c in pool ?? candidates where !taken.contains(c.group) && c.producers.allSatisfy({ (room[$0] ?? 0) > 0 }) {
            for p in c.producers { room[p]! -= 1 }
            result.append(c)
        }
        return result
    }

    /// `--uniform`: round-robin over layer groups by their own lowest scores, so every prefix
    /// removes (about) the same fraction of each layer group.
    func uniformOrder(room: [Int: Int]) -> [GroupCandidate] {
        var room = room
        let byLayer = Dictionary(grouping: candidates, by: \.layerGroup).mapValues { $0.sorted { $0.score != $1.score ? $0.score < $1.score : $0.group < $1.group } }
        let sizes = Dictionary(uniqueKeysWithValues: layerGroups.map { ($0.id, $0.channels) })
        var taken: [Int: Int] = [:]
        var result: [GroupCandidate] = []
        // Each step takes the layer group that has lost the smallest fraction so far.
        var open = Set(byLayer.keys)
        while !open.isEmpty {
            let next = open.min { a, b in
                let fa = Double(taken[a, default: 0]) / Double(sizes[a] ?? 1), fb = Double(taken[b, default: 0]) / Double(sizes[b] ?? 1)
                return fa != fb ? fa < fb : a < b
            }!
            let list = byLayer[next]!
            var index = taken[next, default: 0]
            var admittedOne = false
            while index < list.count {
                let c = list[index]
                index += 1
                if c.producers.allSatisfy({ (room[$0] ?? 0) > 0 }) {
                    for p in c.producers { room[p]! -= 1 }
                    result.append(c)
                    admittedOne = true
                    break
                }
            }
            taken[next] = index
            if !admittedOne || index >= list.count { open.remove(next) }
        }
        return result
    }

    /// `--round-to M`: drops the last-admitted removals of a layer group until its kept count is
    /// a multiple of M.
    func rounded(_ chosen: ArraySlice<GroupCandidate>) -> [GroupCandidate] {
        guard options.roundTo > 1 else { return Array(chosen) }
        let sizes = Dictionary(uniqueKeysWithValues: layerGroups.map { ($0.id, $0.channels) })
        var count = Dictionary(grouping: chosen, by: \.layerGroup).mapValues(\.count)
        var result: [GroupCandidate] = []
        for c in chosen.reversed() {
            let kept = (sizes[c.layerGroup] ?? 0) - (count[c.layerGroup] ?? 0)
            if kept % options.roundTo != 0 { count[c.layerGroup]! -= 1; continue }
            result.append(c)
        }
        return result.reversed()
    }

    func costValue(_ cost: ModelCost) -> Int {
        if case .params? = options.target { return cost.params }
        return cost.macs
    }

    /// What the target limits for a removal set: MACs, parameters, or measured milliseconds.
    func targetValue(_ removed: Set<Int>) throws -> Double {
        if case .latency? = options.target {
            guard let latency else { throw PlanError("--target latency=F needs a latency measurement") }
            return try latency(removed)
        }
        return Double(costValue(try exactCost(removed)))
    }

    /// Refuses a MACs or parameter target that removing every admissible group cannot reach,
    /// naming the best reachable fraction, instead of stripping every profiled layer to its cap
    /// and still missing it. (A latency target is measured, so it keeps the planner's note.)
    func checkReachable(_ everything: [GroupCandidate], before: Double) throws {
        guard let target = options.target, before > 0 else { return }
        if case .latency = target { return }
        let best = Double(costValue(try exactCost(Set(everything.map(\.group))))) / before
        guard best > target.fraction else { return }
        let layers = Set(candidates.map(\.layerGroup)).count
        throw PlanError("--target \(target): cannot be reached with the report's items: removing every admissible group "
                        + "(\(everything.count) of \(candidates.count) candidate groups in \(layers) layer group\(layers == 1 ? "" : "s"), within "
                        + "--max-layer-sparsity \(NumberTextPlain.format(options.maxLayerSparsity)), --min-channels \(options.minChannels)"
                        + "\(options.roundTo > 1 ? ", --round-to \(options.roundTo)" : "")) keeps \(String(format: "%.4f", best)) at best; "
                        + "profile more layers (groups of the whole model) or ask for at least \(String(format: "%.4f", best))")
    }

    /// - Parameters:
    ///   - steps: rounds (`--steps K`). Round r meets the target's r/K share of the saving; between
    ///     rounds `remeasure` gives the remaining groups' influence with the chosen ones removed,
    ///     and they are ranked again (removals interact: what was harmless may not stay so).
    ///   - remeasure: dependency group → influence, measured on top of the given removals.
    public func plan(steps: Int = 1, remeasure: ((Set<Int>) throws -> [Int: Double])? = nil,
                     progress: (String) -> Void = { _ in }) throws -> PlanResult {
        guard steps == 1 || (remeasure != nil && options.target != nil && !options.uniform) else {
            throw PlanError("--steps K > 1 needs --target, --data and --criterion measured (without --uniform)")
        }
        let before = try exactCost([])
        // The unpruned model's cost is already counted; only a latency target needs a measurement.
        var beforeTarget = Double(costValue(before))
        if case .latency? = options.target { beforeTarget = try targetValue([]) }
        var order = admitted()
        func selection(_ k: Int) -> [GroupCandidate] { rounded(order.prefix(k)) }
        var k = order.count
        try checkReachable(selection(order.count), before: beforeTarget)
        var targetMet = true
        var fixed: [GroupCandidate] = []
        for round in 1...steps {
            guard let target = options.target else { break }
            let share = Double(round) / Double(steps)
            let goal = beforeTarget * (1 - (1 - target.fraction) * share)
            // Shortest prefix within this round's goal (never shorter than what earlier rounds fixed).
            var (low, high) = (fixed.count, order.count)
            targetMet = try targetValue(Set(selection(high).map(\.group))) <= goal
            if !targetMet { low = high }
            while low < high {
                let mid = (low + high) / 2
                let value = try targetValue(Set(selection(mid).map(\.group)))
                progress("round \(round)/\(steps): \(mid) of \(order.count) groups → \(NumberTextPlain.format(value)) (goal \(NumberTextPlain.format(goal)))")
                if value <= goal { high = mid } else { low = mid + 1 }
            }
            k = low
            if round < steps, let remeasure {
                fixed = selection(k)
                let influence = try remeasure(Set(fixed.map(\.group)))
                let chosen = Set(fixed.map(\.group))
                var rescored: [GroupCandidate] = []
                for var c in candidates where !chosen.contains(c.group) {
                    if let v = influence[c.group] { c.score = GroupCandidates.score(influence: v, candidate: c, target: options.target) }
                    rescored.append(c)
                }
                rescored.sort { $0.score != $1.score ? $0.score < $1.score : $0.group < $1.group }
                order = admitted(after: fixed, pool: rescored)
                k = fixed.count
                progress("round \(round)/\(steps): \(fixed.count) groups fixed; \(rescored.count) re-measured")
            }
        }
        var measured: [String: Double]? = nil
        var classAfter: [Int: Double]? = nil
        var limitsMet = true, backedOff = false
        if let verifier {
            var result = try verifier.measure(removing: Set(selection(k).map(\.group)))
            progress("measured \(k) groups: \(options.limits.metricsText(result.means))")
            if !options.limits.isEmpty && !options.limits.holds(result.means) {
                backedOff = options.target != nil
                k = try options.limits.longestPrefix(below: k) { mid in
                    let probe = try verifier.measure(removing: Set(selection(mid).map(\.group)))
                    progress("limits: \(mid) groups → \(options.limits.metricsText(probe.means))")
                    return probe.means
                }
                result = try verifier.measure(removing: Set(selection(k).map(\.group)))
                limitsMet = options.limits.holds(result.means)
                if options.target != nil { targetMet = false }
            }
            measured = result.means
            classAfter = result.classAccuracy
        } else if !options.limits.isEmpty {
            throw PlanError("limits (--max-kl, --max-top1, --max-acc-drop) need --data to measure the plan")
        }
        let chosen = selection(k)
        let after = try exactCost(Set(chosen.map(\.group)))
        var latencies: (before: Double, after: Double)? = nil
        if case .latency? = options.target, let latency {
            latencies = (beforeTarget, try latency(Set(chosen.map(\.group))))
            if latencies!.after > beforeTarget * options.target!.fraction { targetMet = false }
        }
        var predicted: [String: Double]? = nil
        if chosen.allSatisfy({ !$0.measured.isEmpty }) {
            var sums: [String: Double] = [:]
            for c in chosen { for (name, v) in c.measured { sums[name, default: 0] += v } }
            if let t = sums["top1"] { sums["top1"] = min(t, 1) }
            predicted = sums
        }
        return PlanResult(removed: chosen.map(\.group), before: before, after: after, figures: PlanFigures(
            predicted: predicted, measured: measured, classAccuracyBefore: verifier?.baselineClassAccuracy, classAccuracyAfter: classAfter,
            targetMet: targetMet, limitsMet: limitsMet, backedOff: backedOff, evaluations: verifier?.evaluations ?? 0,
            latencyBeforeMs: latencies?.before, latencyAfterMs: latencies?.after))
    }
}
