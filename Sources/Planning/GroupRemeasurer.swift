import Dispatch
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
        let threads = max(1, profiler.options.threads)
        for b in batches {
            let cache = try profiler.cache(input: b.input)
            let baseline = Baseline(logits: cache.logits.storage, count: b.input.shape[0], labels: nil)
            let results = UnsafeResults(count: items.count)
            // Items side by side, one thread each, as the profiler does.
            var start = 0
            while start < items.count {
                let wave = Array(start ..< min(items.count, start + threads))
                DispatchQueue.concurrentPerform(iterations: wave.count) { j in
                    let i = wave[j]
                    do {
                        let logits = try self.profiler.perturbedLogits(items[i], level: 1, cache: cache, threads: 1)
                        results.set(i, .success(baseline.compare(logits.storage).values[.kl]?.reduce(0, +) ?? 0))
                    } catch { results.set(i, .failure(error)) }
                }
                start += wave.count
            }
            for (i, v) in try results.values().enumerated() { sums[i] += v }
            count += baseline.count
        }
        profiler.baseInterventions = [:]
        var result: [Int: Double] = [:]
        for (item, s) in zip(items, sums) { if let g = item.group { result[g] = s / Double(max(count, 1)) } }
        return result
    }
}

/// One slot per concurrent task.
final class UnsafeResults: @unchecked Sendable {
    private var slots: [Result<Double, any Error>?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: Result<Double, any Error>) { lock.lock(); slots[i] = value; lock.unlock() }
    func values() throws -> [Double] { try slots.map { try ($0 ?? .failure(PlanError("internal: a measurement did not finish"))).get() } }
}
