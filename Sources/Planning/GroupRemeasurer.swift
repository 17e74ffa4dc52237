import Execution
import Foundation
import Influence
import NetworkIR

/// `plan --steps K`: the influence of each remaining group with the groups chosen so far removed
/// (their channels masked in every pass, baseline included), measured with the profiler's cached,
/// cone-only runs. The metric is kl against the masked model.
public final class GroupRemeasurer: @unchecked Sendable {
    let profiler: Profiler
    let verifier: PlanVerifier
    let batches: [(input: Tensor, labels: [Int]?)]

    public init(graph: Graph, verifier: PlanVerifier, batches: [(input: Tensor, labels: [Int]?)], threads: Int) throws {
        var options = ProfileOptions()
        options.kinds = [.group]
        options.threads = threads
        options.outputKind = verifier.outputKind
        profiler = try Profiler(graph: graph, options: options)
        self.verifier = verifier
        self.batches = batches
    }

    /// Mean kl of removing each of `groups` on top of `removed`.
    public func influence(of groups: Set<Int>, removing removed: Set<Int>) throws -> [Int: Double] {
        profiler.baseInterventions = verifier.masks(removed)
        let items = profiler.items.filter { $0.group.map(groups.contains) ?? false }
        var sums = [Double](repeating: 0, count: items.count)
        var count = 0
        for b in batches {
            let cache = try profiler.cache(input: b.input)
            let baseline = Baseline(logits: cache.logits.storage, count: b.input.shape[0], labels: nil, kind: verifier.outputKind)
            let measured = try profiler.measure(items, cache: cache, baseline: baseline, threadsPerItem: items.count > 1 ? 1 : profiler.options.threads)
            for (i, levels) in measured.enumerated() { sums[i] += levels.last?.values[.kl]?.reduce(0, +) ?? 0 }
            count += baseline.count
        }
        profiler.baseInterventions = [:]
        var result: [Int: Double] = [:]
        for (item, s) in zip(items, sums) { if let g = item.group { result[g] = s / Double(max(count, 1)) } }
        return result
    }
}
