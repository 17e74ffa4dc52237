import Foundation
import NetworkIR

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

    public init(profiler: Profiler, checkpointPath: String?, fingerprint: String) {
        self.profiler = profiler
        self.checkpointPath = checkpointPath
        self.fingerprint = fingerprint
    }

    /// Measures every item. `nextBatch` yields (NCHW input, labels) until nil; `resume` loads the
    /// checkpoint first when it exists.
    public func run(resume: Bool, nextBatch: () throws -> (Tensor, [Int]?)?, progress: (ProfileProgress) -> Void) throws -> ProfileMeasurements {
        var state = CheckpointState(fingerprint: fingerprint, items: profiler.items.count, levels: profiler.levels.count)
        var resumed = 0
        if resume, let path = checkpointPath, FileManager.default.fileExists(atPath: path) {
            state = try CheckpointState.load(path: path, expected: state)
            resumed = state.chunksDone.filter { $0 > 0 }.count
        }
        let start = Date()
        var lastSave = Date()
        var chunk = 0
        var labelsSeen: [Int] = []
        var anyLabels = false
        let totalWork = profiler.items.count
        var done = 0
        while let (input, labels) = try nextBatch() {
            if let labels { labelsSeen += labels; anyLabels = true }
            let pending = (0..<profiler.items.count).filter { state.chunksDone[$0] == chunk && !state.stopped[$0] }
            if !pending.isEmpty || chunk >= state.baselineChunks.count {
                let cache = try profiler.cache(input: input)
                if chunk >= state.baselineChunks.count { state.baselineChunks.append(cache.logits.storage) }
                let baseline = Baseline(logits: cache.logits.storage, count: cache.batch, labels: labels)
                for i in pending {
                    let item = profiler.items[i]
                    for (l, level) in profiler.levels.enumerated() {
                        let logits = try profiler.perturbedLogits(item, level: level, cache: cache)
                        let m = baseline.compare(logits.storage)
                        for (name, values) in m.values { state.values[i][l][name.rawValue, default: []] += values }
                    }
                    state.chunksDone[i] = chunk + 1
                    if profiler.options.adaptive && decided(state.values[i].last?[profiler.options.metric.rawValue] ?? [], item: item) {
                        state.stopped[i] = true
                    }
                    done += 1
                    progress(ProfileProgress(done: done, total: totalWork, elapsed: Date().timeIntervalSince(start)))
                    if let path = checkpointPath, Date().timeIntervalSince(lastSave) >= checkpointInterval {
                        try state.save(path: path)
                        lastSave = Date()
                    }
                }
            }
            chunk += 1
            if let path = checkpointPath { try state.save(path: path); lastSave = Date() }
            // Later batches: the progress total counts item passes per batch.
            done = 0
        }
        guard chunk > 0 else { throw InfluenceError("no inputs") }
        guard zip(state.chunksDone, state.stopped).allSatisfy({ $0 == chunk || ($1 && $0 <= chunk) }) else {
            throw InfluenceError("the checkpoint holds items measured on \(state.chunksDone.max() ?? 0) batches but the data has \(chunk): not the same run")
        }
        let logits = state.baselineChunks.flatMap { $0 }
        let classes = profiler.classCount
        let baseline = Baseline(logits: logits, count: logits.count / max(classes, 1), labels: anyLabels ? labelsSeen : nil)
        var measurements: [ItemMeasurement] = []
        for (i, item) in profiler.items.enumerated() {
            let metrics = state.values[i].map { level in
                PerInputMetrics(values: Dictionary(uniqueKeysWithValues: level.compactMap { k, v in MetricName(rawValue: k).map { ($0, v) } }))
            }
            measurements.append(ItemMeasurement(item: item, levels: profiler.levels, metrics: metrics))
        }
        return ProfileMeasurements(baseline: baseline, measurements: measurements, resumedItems: resumed)
    }
}

extension ProfileSession {
    /// Adaptive mode: an item is decided once its interval lies wholly on one side of the weak
    /// threshold; it then uses no more inputs.
    func decided(_ values: [Double], item: InfluenceItem) -> Bool {
        guard values.count >= ProfileOptions.adaptiveMinimumInputs else { return false }
        let o = profiler.options
        let stats = InfluenceStatistics(values: values, resamples: o.bootstrapResamples, seed: o.seed ^ stableHash(item.id))
        return stats.ciHigh < o.weakThreshold || stats.ciLow > o.weakThreshold
    }
}

extension Profiler {
    /// Outputs per input (classes), from the model's output shape.
    var classCount: Int {
        ((try? graph.inferShapes(batch: 1)[logitsValue]) ?? nil)?.dropFirst().reduce(1, *) ?? 1
    }
}
