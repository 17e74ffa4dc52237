import Dispatch
import Execution
import Foundation
import NetworkIR
import Support

/// The inputs of a profile: streamed batch by batch (memory: one batch), or all at once, which
/// adaptive mode and hard examples need (`ProfileRun.needsAllInputs`).
public enum ProfileInputs {
    case stream(() throws -> (Tensor, [Int]?)?)
    case all(Tensor, labels: [Int]?)
}

/// `weakspot profile` as one library call: measures every item the request asks for on the
/// inputs and returns the report (schema weakspot.report/1). The command line only reads the
/// model and the data, and writes what this returns.
public final class ProfileRun {
    public let request: ProfileRequest
    public let graph: Graph
    public let profiler: Profiler
    /// What else decides the numbers besides the request — the model's SHA-256 and the resolved
    /// preprocessing — joined with `request.fingerprint` into the checkpoint's fingerprint.
    public let identity: String
    public var jsonLimits = JSONLimits()
    /// Asked between items (the CLI answers it from SIGINT); see `ProfileSession.shouldStop`.
    public var shouldStop: () -> Bool = { false }
    /// Notes for the user (hard-example selection), printed by the caller.
    public var note: (String) -> Void = { _ in }
    /// `--calibrate`: the calibration inputs, for sweeps that round activations.
    public var calibration: [Tensor] = []

    /// `request.measure.batchSize` is the batch actually used (the caller lowers it to fit memory
    /// first), so the recorded settings say how the run was cut.
    public init(request: ProfileRequest, graph: Graph, identity: String) throws {
        self.request = request
        self.graph = graph
        self.identity = identity
        profiler = try Profiler(graph: graph, options: request.options)
    }

    public var itemCount: Int { profiler.items.count }
    public var needsAllInputs: Bool { request.measure.adaptive || request.hardExamples != nil }
    /// The checkpoint's fingerprint: a resumed run must agree on every result-changing option.
    public var fingerprint: String { identity + "|" + request.fingerprint }

    /// Measures every item and assembles the report. `model` and `data` describe the inputs for
    /// the report (`ProfileReport.modelObject`, `dataObject`); `data` is asked once the inputs
    /// are read, with the number measured on.
    public func run(inputs: ProfileInputs, model: JSONValue, data: (_ count: Int) -> JSONValue,
                    progress: (ProfileProgress) -> Void) throws -> JSONValue {
        let options = request.options
        let started = DispatchTime.now().uptimeNanoseconds
        var next: () throws -> (Tensor, [Int]?)?
        switch inputs {
        case .stream(let reader):
            next = reader
        case .all(let x, let y):
            var batches = try slices(x, labels: y, options: options)
            next = { batches.isEmpty ? nil : batches.removeFirst() }
        }
        if profiler.roundsActivations { try profiler.calibrateActivations(calibration) }
        let session = ProfileSession(profiler: profiler, checkpointPath: request.checkpoint, fingerprint: fingerprint)
        session.jsonLimits = jsonLimits
        session.shouldStop = shouldStop
        session.stableAt = request.untilStable
        session.note = note
        let measurements = try session.run(resume: request.resume, nextBatch: next, progress: progress)
        if let target = request.untilStable, let s = session.stability, !s.reached {
            note("warning: --until-stable \(target): the data ran out after \(s.inputs) inputs at halves Kendall τ \(s.tau.map { String(format: "%.3f", $0) } ?? "n/a"); the report's stability.estimate says how many more might reach it")
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        // What the metrics took the output for, and which output: known once the profiler read the graph.
        var modelObject = model
        if case .object(var o) = model {
            o["outputKind"] = .string(profiler.outputKind.rawValue)
            o["output"] = .string(graph.values[graph.outputs[0]].name)
            modelObject = .object(o)
        }
        // `itemsTotal`: every item of the unsharded run, so `merge` can say which shard is missing.
        let header = try ProfileReport.header(graph: graph, discovery: profiler.discovery, model: modelObject,
                                              data: data(measurements.baseline.count), request: request, baseline: measurements.baseline,
                                              itemsTotal: profiler.allItems.count)
        var report = ProfileReport.assemble(header: header, items: ProfileReport.itemObjects(measurements, options: options, discovery: profiler.discovery),
                                            timing: try timing(seconds: seconds, measurements: measurements.measurements))
        if let target = request.untilStable, let s = session.stability, case .object(var o) = report, case .object(var stability)? = o["stability"] {
            stability["untilStable"] = .object(["target": .double(target), "reached": .bool(s.reached), "inputs": .int(s.inputs)])
            o["stability"] = .object(stability)
            report = .object(o)
        }
        return report
    }

    /// The report's `timing`: the wall time, the run's floor (`ProfileFloor`) and their ratio.
    func timing(seconds: Double, measurements: [ItemMeasurement]) throws -> JSONValue {
        let metric = request.options.metric
        let floor = try profiler.floor(inputs: measurements.map { $0.metrics.last?.values[metric]?.count ?? 0 }, batch: request.measure.batchSize)
        func rounded(_ x: Double) -> JSONValue { .double((x * 1000).rounded() / 1000) }
        return .object(["seconds": rounded(seconds), "floorSeconds": rounded(floor.seconds),
                        "floorRatio": floor.seconds > 0 ? rounded(seconds / floor.seconds) : .null,
                        "engineMACsPerSecond": .double(floor.rate.rounded())])
    }

    /// All inputs cut into the run's batches: the hard examples first chosen when asked; in
    /// adaptive mode the first batch is the adaptive slice.
    func slices(_ input: Tensor, labels: [Int]?, options: ProfileOptions) throws -> [(Tensor, [Int]?)] {
        var x = input, y = labels
        let itemShape = Array(input.shape.dropFirst())
        let per = itemShape.reduce(1, *)
        var count = input.shape.first ?? 0
        if let k = request.hardExamples {
            let logits = try ExecutionPlan(graph: graph, options: ExecutionOptions(threads: options.threads)).run(x)[0]
            let chosen = HardExamples.select(logits: logits.storage, count: count, k: min(k, count))
            x = Tensor(shape: [chosen.count] + itemShape, storage: chosen.flatMap { Array(input.storage[$0 * per ..< ($0 + 1) * per]) })
            y = y.map { l in chosen.map { l[$0] } }
            note("hard examples: \(chosen.count) of \(count) inputs (smallest top-1 margin)")
            count = chosen.count
        }
        var sizes: [Int] = []
        var start = 0
        if options.adaptive {
            start = min(request.adaptiveFirstSlice(inputs: count), count)
            sizes.append(start)
        }
        while start < count { let s = min(options.batchSize, count - start); sizes.append(s); start += s }
        var batches: [(Tensor, [Int]?)] = []
        start = 0
        for s in sizes where s > 0 {
            batches.append((Tensor(shape: [s] + itemShape, storage: Array(x.storage[start * per ..< (start + s) * per])),
                            y.map { Array($0[start ..< start + s]) }))
            start += s
        }
        return batches
    }
}

extension ProfileReport {
    /// The report's `model` object.
    public static func modelObject(path: String, sha256: String, graph: Graph, input: GraphInput) throws -> JSONValue {
        let cost = try graph.cost(batch: 1)
        return .object(["path": .string(path), "sha256": .string(sha256), "params": .int(cost.params), "macs": .int(cost.macs),
                        "inputShape": .array(([1] + input.sampleShape).map { .int($0) }), "layout": .string(input.layout.rawValue)])
    }

    /// The report's `data` object; `skipped` lists (path, reason) of the inputs left out.
    /// `ignored` lists the entries of an image folder that are not images and were not read.
    public static func dataObject(source: String, count: Int, preprocessing: String, hardExamples: Int?,
                                  skipped: [(path: String, reason: String)], ignored: [(path: String, reason: String)] = []) -> JSONValue {
        .object(["source": .string(source), "count": .int(count), "preprocessing": .string(preprocessing),
                 "hardExamples": hardExamples.map { .int($0) } ?? .null,
                 "skipped": .array(skipped.map { .object(["path": .string($0.path), "reason": .string($0.reason)]) }),
                 "ignored": .array(ignored.map { .object(["path": .string($0.path), "reason": .string($0.reason)]) })])
    }
}
