import Foundation
import Support

/// What a checkpoint holds: for each item of the run, how many input batches it has been measured
/// on and its per-input values so far; the baseline logits of every batch seen. Floats are written
/// in their shortest round-trip form, so a resumed run continues with exactly the same numbers.
struct CheckpointState {
    static let schema = "weakspot.checkpoint/1"
    var fingerprint: String
    var chunksDone: [Int]
    /// Adaptive mode: items decided early, which take no more inputs.
    var stopped: [Bool]
    /// [item][level][metric] → per-input values.
    var values: [[[String: [Double]]]]
    var baselineChunks: [[Float]]

    /// `levelCounts`: per item, how many levels it is measured at (a layer sweep's sparsities, else 1).
    init(fingerprint: String, levelCounts: [Int]) {
        self.fingerprint = fingerprint
        chunksDone = [Int](repeating: 0, count: levelCounts.count)
        stopped = [Bool](repeating: false, count: levelCounts.count)
        values = levelCounts.map { [[String: [Double]]](repeating: [:], count: $0) }
        baselineChunks = []
    }

    func json() -> JSONValue {
        .object([
            "schema": .string(CheckpointState.schema),
            "fingerprint": .string(fingerprint),
            "chunksDone": .array(chunksDone.map { .int($0) }),
            "stopped": .array(stopped.map { .bool($0) }),
            "values": .array(values.map { item in .array(item.map { level in .object(level.mapValues { .array($0.map { .double($0) }) }) }) }),
            "baseline": .array(baselineChunks.map { .array($0.map { JSONValue.float($0) }) }),
        ])
    }

    func save(path: String) throws {
        try AtomicFile.write(json().rendered(pretty: false), to: path)
    }

    /// Reads a checkpoint and checks that it belongs to the run `expected` describes.
    static func load(path: String, expected: CheckpointState, limits: JSONLimits = JSONLimits()) throws -> CheckpointState {
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size > limits.maxBytes {
            throw InfluenceError("\(path): \(limits.sizeError(bytes: size))")
        }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw InfluenceError("\(path): cannot read the checkpoint: \(error.localizedDescription)")
        }
        let root: JSONValue
        do { root = try JSONValue.parse(text, maxDepth: limits.maxDepth) } catch { throw InfluenceError("\(path): \(error): not a WeakSpot checkpoint") }
        guard root["schema"]?.stringValue == schema else { throw InfluenceError("\(path): expected schema \(schema)") }
        guard root["fingerprint"]?.stringValue == expected.fingerprint else {
            throw InfluenceError("\(path): the checkpoint belongs to another run (model, data or options differ); remove it or drop --resume")
        }
        var state = expected
        guard let done = root["chunksDone"]?.arrayValue, done.count == expected.chunksDone.count,
              let values = root["values"]?.arrayValue, values.count == expected.values.count,
              let baseline = root["baseline"]?.arrayValue else {
            throw InfluenceError("\(path): checkpoint item count differs from this run's")
        }
        state.chunksDone = done.map { $0.intValue ?? 0 }
        if let stopped = root["stopped"]?.arrayValue, stopped.count == done.count { state.stopped = stopped.map { $0.boolValue ?? false } }
        for (i, item) in values.enumerated() {
            guard let levels = item.arrayValue, levels.count == expected.values[i].count else { throw InfluenceError("\(path): item \(i): malformed levels") }
            for (l, level) in levels.enumerated() {
                for (k, v) in level.objectValue ?? [:] { state.values[i][l][k] = (v.arrayValue ?? []).map { $0.doubleValue ?? .nan } }
            }
        }
        state.baselineChunks = baseline.map { ($0.arrayValue ?? []).map { Float($0.doubleValue ?? .nan) } }
        return state
    }
}

