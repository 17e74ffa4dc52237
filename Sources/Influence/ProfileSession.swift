import Dispatch
import Foundation
import NetworkIR
import Support

/// Progress of a profile, reported after each measured item.
public struct ProfileProgress: Sendable {
    public var done: Int
    public var total: Int
    public var elapsed: Double
}

/// The outcome of measuring every item of a run on every input.
public struct ProfileMeasurements: Sendable {
    public var baseline: Baseline
    public var measurements: [ItemMeasurement]
    /// Items whose measurements were loaded from a checkpoint rather than computed now.
    public var resumedItems: Int
    /// Tail-end statistics of the unperturbed model over every input, when an activation
    /// estimator was asked for.
    public var activations: ActivationStatistics?
    /// Taylor scores over every input, when `taylor` was asked for.
    public var taylor: TaylorAccumulator?
}

/// Runs a profiler over batches of inputs with checkpointing: after each item (at most every
/// `checkpointInterval` seconds) and after each batch, the finished per-input values are saved
/// atomically, so a killed run resumed from its checkpoint ends with the same numbers.
public final class ProfileSession {
    public let profiler: Profiler
    public let checkpointPath: String?
    /// Identifies the run (model, data, options); a checkpoint of another run is refused.
    public let fingerprint: String
    public var checkpointInterval: Double = 2
    /// Items per thread in one wave: enough that uneven item costs even out, few enough that
    /// progress and checkpoints stay frequent.
    static let itemsPerThreadPerWave = 6
    /// Asked after each wave of items and after each batch; when it answers true the run saves
    /// its checkpoint and throws `ProfileInterrupted` (the CLI answers it from SIGINT). Finished
    /// items are never lost: a `--resume` continues from the saved state.
    public var shouldStop: () -> Bool = { false }
    /// How large and deep a checkpoint `--resume` reads may be.
    public var jsonLimits = JSONLimits()
    /// Told once when `--resume` found and loaded a checkpoint (the CLI prints it on standard
    /// error), so a requeued cluster task's log shows that it resumed.
    public var note: (String) -> Void = { _ in }

    /// Where the run's time went (`timing.phases`); the profiler adds its items' work to it.
    public let phases = ProfilePhases()

    public init(profiler: Profiler, checkpointPath: String?, fingerprint: String) {
        self.profiler = profiler
        profiler.phases = phases
        self.checkpointPath = checkpointPath
        self.fingerprint = fingerprint
    }

    /// `--until-stable T`: after each batch, the halves Kendall τ over the items of the finest
    /// kind; reading stops once it reaches T (and at least `minimumStableInputs` were read).
    public var stableAt: Double? = nil
    /// `--adaptive`: batches that make up the first slice (read in several batches when it holds
    /// more inputs than fit in one); no item is decided before they are all measured.
    public var firstSliceBatches = 1
    /// `--adaptive`: the number of inputs of the run (N), which the decisions are about.
    public var population: Int? = nil
    public static let minimumStableInputs = 8
    /// Where `stableAt` left the run: the last τ, the inputs read, and whether T was reached.
    public private(set) var stability: (tau: Double?, inputs: Int, reached: Bool)? = nil

    /// Kendall's τ between the items' mean metric on even and on odd input positions, over the
    /// finest kind measured (as the report's `stability.halvesKendall`).
    func halvesKendall(_ state: CheckpointState) -> Double? {
        let finest = ItemKind.allCases.first { kind in profiler.items.contains { $0.kind == kind } }
        var first: [Double] = [], second: [Double] = []
        for (i, item) in profiler.items.enumerated() where item.kind == finest {
            guard let (even, odd) = RankStability.halves(state.values[i].last?[profiler.options.metric.rawValue] ?? []) else { continue }
            first.append(even)
            second.append(odd)
        }
        return Agreement.kendall(first, second)
    }

    /// Measures every item. `nextBatch` yields (NCHW input, labels) until nil; `resume` loads the
    /// checkpoint first when it exists.
    public func run(resume: Bool, nextBatch: () throws -> (Tensor, [Int]?)?, progress: (ProfileProgress) -> Void) throws -> ProfileMeasurements {
        var state = CheckpointState(fingerprint: fingerprint, levelCounts: profiler.items.map { profiler.levels(for: $0).count })
        var resumed = 0
        if resume, let path = checkpointPath, FileManager.default.fileExists(atPath: path) {
            state = try CheckpointState.load(path: path, expected: state, limits: jsonLimits)
            resumed = state.chunksDone.filter { $0 > 0 }.count
            let batches = state.baselineChunks.count
            note("resuming from \(path): \(resumed) of \(profiler.items.count) items measured on at least one batch; baselines of \(batches) batch\(batches == 1 ? "" : "es") saved")
        }
        let start0 = Date()
        var lastSave = Date()
        var chunk = 0
        var labelsSeen: [Int] = []
        var anyLabels = false
        let totalWork = profiler.items.count
        var done = 0
        // Activation statistics are not checkpointed: every batch's baseline pass is rerun for
        // them (one forward per batch), so resumed and sharded runs sum the same values in order.
        let wantsTaylor = profiler.options.estimators.contains(.taylor)
        let wantsActivations = profiler.options.estimators.contains(where: \.needsActivations) || wantsTaylor
        var activations = profiler.options.estimators.contains(where: \.needsActivations) ? ActivationStatistics() : nil
        var taylor = wantsTaylor ? TaylorAccumulator(reduction: profiler.options.groupReduction, groups: profiler.options.kinds.contains(.group)) : nil
        let tailEnds = profiler.tailEnds
        var rule: AdaptiveRule? = nil
        if profiler.options.adaptive && profiler.options.measurement == .influence {
            guard let population else { throw InfluenceError("--adaptive needs the number of inputs before the first batch (a replayable source)") }
            rule = AdaptiveRule(population: population, options: profiler.options)
        }
        // Each decision as taken; items stopped before a resume are decided again from their values.
        var decisions = [AdaptiveDecision?](repeating: nil, count: profiler.items.count)
        while let (input, labels) = try phases.time(.inputs, { try nextBatch() }) {
            if let labels { labelsSeen += labels; anyLabels = true }
            // `--measure none`: no item is perturbed; the batch only feeds the estimators and the baseline.
            let pending = profiler.options.measurement == .estimatesOnly ? []
                : (0..<profiler.items.count).filter { state.chunksDone[$0] == chunk && !state.stopped[$0] }
            if !pending.isEmpty || chunk >= state.baselineChunks.count || wantsActivations {
                let cache = try phases.time(.baseline) { try profiler.cache(input: input) }
                try phases.time(.estimators) {
                    activations?.add(values: cache.values, tails: tailEnds)
                    try taylor?.add(discovery: profiler.discovery, input: input, logits: cache.logits, labels: labels,
                                    outputKind: profiler.outputKind, threads: profiler.options.threads)
                }
                if chunk >= state.baselineChunks.count { state.baselineChunks.append(cache.logits.storage) }
                let baseline = Baseline(logits: cache.logits.storage, count: cache.batch, labels: labels, kind: profiler.outputKind)
                // Items run side by side, one thread each: small cone steps cannot keep several
                // threads busy, but independent items can. A wave holds several items per thread
                // and threads take the next item as they finish one, so a slow item (an early
                // layer's whole cone) does not leave the other threads idle; results are recorded
                // in item order after each wave.
                let workers = max(1, profiler.options.threads)
                var start = 0
                while start < pending.count {
                    let wave = Array(pending[start ..< min(pending.count, start + workers * ProfileSession.itemsPerThreadPerWave)])
                    start += wave.count
                    let results = try phases.time(.items) {
                        try measureSideBySide(wave, cache: cache, baseline: baseline, threadsPerItem: workers > 1 && wave.count > 1 ? 1 : profiler.options.threads)
                    }
                    for (i, levels) in zip(wave, results) {
                        for (l, m) in levels.enumerated() {
                            for (name, values) in m.values { state.values[i][l][name.rawValue, default: []] += values }
                        }
                        state.chunksDone[i] = chunk + 1
                        if let rule, chunk + 1 >= firstSliceBatches {
                            let decided = decision(state.values[i].last?[profiler.options.metric.rawValue] ?? [], item: profiler.items[i], rule: rule)
                            if decided != .allInputs { state.stopped[i] = true; decisions[i] = decided }
                        }
                        done += 1
                        progress(ProfileProgress(done: done, total: totalWork, elapsed: Date().timeIntervalSince(start0)))
                        if let path = checkpointPath, Date().timeIntervalSince(lastSave) >= checkpointInterval {
                            try phases.time(.checkpoints) { try state.save(path: path) }
                            lastSave = Date()
                        }
                    }
                    if shouldStop() {
                        if let path = checkpointPath { try state.save(path: path) }
                        throw ProfileInterrupted(checkpointPath: checkpointPath)
                    }
                }
            }
            chunk += 1
            if let path = checkpointPath { try phases.time(.checkpoints) { try state.save(path: path) }; lastSave = Date() }
            if shouldStop() { throw ProfileInterrupted(checkpointPath: checkpointPath) }
            if let target = stableAt {
                let tau = halvesKendall(state), inputs = state.baselineChunks.reduce(0) { $0 + $1.count } / max(profiler.classCount, 1)
                stability = (tau, inputs, (tau ?? -1) >= target && inputs >= Self.minimumStableInputs)
                if stability!.reached { break }
            }
            // Later batches: the progress total counts item passes per batch.
            done = 0
        }
        guard chunk > 0 else { throw InfluenceError("no inputs") }
        guard profiler.options.measurement == .estimatesOnly || zip(state.chunksDone, state.stopped).allSatisfy({ $0 == chunk || ($1 && $0 <= chunk) }) else {
            throw InfluenceError("the checkpoint holds items measured on \(state.chunksDone.max() ?? 0) batches but the data has \(chunk): not the same run")
        }
        let logits = state.baselineChunks.flatMap { $0 }
        let classes = profiler.classCount
        let baseline = Baseline(logits: logits, count: logits.count / max(classes, 1), labels: anyLabels ? labelsSeen : nil, kind: profiler.outputKind)
        var measurements: [ItemMeasurement] = []
        for (i, item) in profiler.items.enumerated() {
            let metrics = state.values[i].map { level in
                PerInputMetrics(values: Dictionary(uniqueKeysWithValues: level.compactMap { k, v in MetricName(rawValue: k).map { ($0, v) } }))
            }
            var measurement = ItemMeasurement(item: item, levels: profiler.levels(for: item), metrics: metrics)
            if let rule {
                measurement.adaptive = !state.stopped[i] ? .allInputs
                    : decisions[i] ?? decision(state.values[i].last?[profiler.options.metric.rawValue] ?? [], item: item, rule: rule)
            }
            measurements.append(measurement)
        }
        return ProfileMeasurements(baseline: baseline, measurements: measurements, resumedItems: resumed, activations: activations, taylor: taylor)
    }
}

/// A run stopped on request (`ProfileSession.shouldStop`) after saving its checkpoint.
public struct ProfileInterrupted: Error, CustomStringConvertible, Sendable {
    public var checkpointPath: String?

    public var description: String {
        guard let checkpointPath else { return "interrupted (no checkpoint: finished items are lost)" }
        return "interrupted: finished items saved to \(checkpointPath); rerun the same command with --resume to continue"
    }
}

extension ProfileSession {
    /// Measures `items` (indices into the run's items) at every level, concurrently.
    func measureSideBySide(_ items: [Int], cache: Profiler.BatchCache, baseline: Baseline, threadsPerItem: Int) throws -> [[PerInputMetrics]] {
        try profiler.measure(items.map { profiler.items[$0] }, cache: cache, baseline: baseline, threadsPerItem: threadsPerItem)
    }

    /// Adaptive mode: the item's decision on the values measured so far (`AdaptiveRule`); an item
    /// decided one way or the other uses no more inputs.
    func decision(_ values: [Double], item: InfluenceItem, rule: AdaptiveRule) -> AdaptiveDecision {
        rule.decide(values, seed: profiler.options.seed ^ stableHash(item.id))
    }
}

extension Profiler {
    /// Outputs per input (classes), from the model's output shape.
    var classCount: Int {
        ((try? graph.inferShapes(batch: 1)[logitsValue]) ?? nil)?.dropFirst().reduce(1, *) ?? 1
    }
}

/// A shared counter handing out indices 0, 1, 2… to worker threads.
final class NextIndex: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func take(below limit: Int) -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard value < limit else { return nil }
        value += 1
        return value - 1
    }
}

/// One result slot per concurrent task; each task writes only its own slot.
final class ResultSlots<T>: @unchecked Sendable {
    private var slots: [Result<T, any Error>?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: Result<T, any Error>) {
        lock.lock(); slots[index] = value; lock.unlock()
    }

    /// The values in order, or the first error.
    func values() throws -> [T] {
        try slots.map { slot in
            guard let slot else { throw InfluenceError("internal: a measurement did not finish") }
            return try slot.get()
        }
    }
}
