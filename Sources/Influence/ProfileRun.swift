import Dispatch
import Execution
import Foundation
import NetworkIR
import Support

/// The inputs of a profile: streamed batch by batch (memory: one batch), or replayable — read
/// more than once, which adaptive mode and hard examples need (`ProfileRun.needsReplay`) — or all
/// in memory (library callers; sliced one batch at a time, as a replayable source).
public enum ProfileInputs {
    case stream(() throws -> (Tensor, [Int]?)?)
    case replayable(ReplayableInputs)
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
    /// Adaptive mode needs the count before the first batch (the first slice is a quarter), and
    /// hard examples a selecting pass before the reading pass.
    public var needsReplay: Bool { request.measure.adaptive || request.hardExamples != nil }
    /// The checkpoint's fingerprint: a resumed run must agree on every result-changing option.
    public var fingerprint: String { identity + "|" + request.fingerprint }

    /// Measures every item and assembles the report. `model` and `data` describe the inputs for
    /// the report (`ProfileReport.modelObject`, `dataObject`); `data` is asked once the inputs
    /// are read, with the number measured on.
    public func run(inputs: ProfileInputs, model: JSONValue, data: (_ count: Int) -> JSONValue,
                    progress: (ProfileProgress) -> Void) throws -> JSONValue {
        let options = request.options
        let started = DispatchTime.now().uptimeNanoseconds
        let cpuStarted = ProcessCPUTime.seconds()
        var next: () throws -> (Tensor, [Int]?)?
        var firstSliceBatches = 1
        var count: Int? = nil
        switch inputs {
        case .stream(let reader):
            next = reader
        case .replayable(let source):
            (next, firstSliceBatches, count) = try batches(source, options: options)
        case .all(let x, let y):
            (next, firstSliceBatches, count) = try batches(ReplayableInputs(x, labels: y), options: options)
        }
        if profiler.roundsActivations { try profiler.calibrateActivations(calibration) }
        let session = ProfileSession(profiler: profiler, checkpointPath: request.checkpoint, fingerprint: fingerprint)
        session.firstSliceBatches = firstSliceBatches
        session.population = count
        session.jsonLimits = jsonLimits
        session.shouldStop = shouldStop
        session.stableAt = request.untilStable
        session.note = note
        let measurements = try session.run(resume: request.resume, nextBatch: next, progress: progress)
        if let target = request.untilStable, let s = session.stability, !s.reached {
            note("warning: --until-stable \(target): the data ran out after \(s.inputs) inputs at halves Kendall τ \(s.tau.map { String(format: "%.3f", $0) } ?? "n/a"); the report's stability.estimate says how many more might reach it")
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let cpuSeconds = cpuStarted.flatMap { start in ProcessCPUTime.seconds().map { $0 - start } }
        // What the metrics took the output for, and which output: known once the profiler read the graph.
        var modelObject = model
        if case .object(var o) = model {
            o["outputKind"] = .string(profiler.outputKind.rawValue)
            o["output"] = .string(graph.values[graph.outputs[0]].name)
            modelObject = .object(o)
        }
        // `itemsTotal`: every item of the unsharded run, so `merge` can say which shard is missing.
        let assembling = DispatchTime.now().uptimeNanoseconds
        let header = try ProfileReport.header(graph: graph, discovery: profiler.discovery, model: modelObject,
                                              data: data(measurements.baseline.count), request: request, baseline: measurements.baseline,
                                              itemsTotal: profiler.allItems.count)
        let items = ProfileReport.itemObjects(measurements, options: options, discovery: profiler.discovery)
        let assembly = ProfilePhases.seconds(since: assembling)
        var report = ProfileReport.assemble(header: header, items: items,
                                            timing: try timing(seconds: seconds, cpuSeconds: cpuSeconds, measurements: measurements.measurements,
                                                               phases: session.phases, assemblySeconds: assembly))
        if let target = request.untilStable, let s = session.stability, case .object(var o) = report, case .object(var stability)? = o["stability"] {
            stability["untilStable"] = .object(["target": .double(target), "reached": .bool(s.reached), "inputs": .int(s.inputs)])
            o["stability"] = .object(stability)
            report = .object(o)
        }
        return report
    }

    /// The report's `timing`: the wall time and where it went (`ProfilePhases`), the run's floor
    /// (`ProfileFloor`) and their ratio. The report's assembly (statistics, bootstrap intervals)
    /// and the floor's own timing passes come after `seconds` and are given beside it.
    /// `cpuSeconds` (all threads) gives the same ratio in CPU time, `floorCPURatio`, which
    /// other jobs on a shared machine do not inflate.
    func timing(seconds: Double, cpuSeconds: Double?, measurements: [ItemMeasurement], phases: ProfilePhases, assemblySeconds: Double) throws -> JSONValue {
        func rounded(_ x: Double) -> JSONValue { .double((x * 1000).rounded() / 1000) }
        var timing: [String: JSONValue] = ["seconds": rounded(seconds), "phases": phases.json(total: seconds),
                                           "assemblySeconds": rounded(assemblySeconds)]
        if let cpuSeconds { timing["cpuSeconds"] = rounded(cpuSeconds) }
        if let peak = PeakMemory.bytes() { timing["peakMemoryBytes"] = .int(peak) }
        // A run that measured nothing (`--measure none`) has no cones and no floor.
        guard request.measure.measurement == .influence else { return .object(timing) }
        let metric = request.options.metric
        let measuring = DispatchTime.now().uptimeNanoseconds
        let floor = try profiler.floor(inputs: measurements.map { $0.metrics.last?.values[metric]?.count ?? 0 }, batch: request.measure.batchSize)
        timing["floorMeasurementSeconds"] = rounded(ProfilePhases.seconds(since: measuring))
        timing["floorSeconds"] = rounded(floor.seconds)
        timing["floorRatio"] = floor.seconds > 0 ? rounded(seconds / floor.seconds) : .null
        timing["engineMACsPerSecond"] = .double(floor.rate.rounded())
        if let cpuRate = floor.cpuRate, let floorCPU = floor.cpuSeconds, let cpuSeconds {
            timing["engineMACsPerCPUSecond"] = .double(cpuRate.rounded())
            timing["floorCPUSeconds"] = .double(floorCPU)  // unrounded: a small run's floor is well below a millisecond
            timing["floorCPURatio"] = floorCPU > 0 ? rounded(cpuSeconds / floorCPU) : .null
        }
        return .object(timing)
    }

    /// The run's batches from a replayable source, and how many of them make up the adaptive first
    /// slice. With `--hard-examples K` a first pass runs the model batch by batch and keeps the K
    /// smallest margins (`HardExamples.Selector`); the reading pass then keeps only those inputs.
    /// In adaptive mode the first slice (`ProfileRequest.adaptiveFirstSlice`) is cut into batches
    /// of at most `--batch`, so its cached activations stay within `--max-memory` too, and the
    /// rest follows `ProfileRequest.adaptiveSchedule`. `count` is the inputs the run will read.
    func batches(_ source: ReplayableInputs, options: ProfileOptions) throws -> (next: () throws -> (Tensor, [Int]?)?, firstSliceBatches: Int, count: Int?) {
        let batch = options.batchSize
        var keep: Set<Int>? = nil
        var count = source.count
        if let k = request.hardExamples {
            var selector = HardExamples.Selector(k: k)
            let plan = try ExecutionPlan(graph: graph, options: ExecutionOptions(threads: options.threads, winograd: Profiler.winograd))
            let read = try source.open(batch)
            while let (x, _) = try read() { selector.add(logits: try plan.run(x)[0].storage, count: x.shape[0]) }
            let chosen = selector.chosen
            keep = Set(chosen)
            note("hard examples: \(chosen.count) of \(selector.seen) inputs (smallest top-1 margin)")
            count = chosen.count
        } else if options.adaptive && count == nil {
            // Bad files skipped: only reading tells how many inputs there are.
            var n = 0
            let read = try source.open(batch)
            while let (x, _) = try read() { n += x.shape[0] }
            count = n
        }
        guard count != 0 else { throw InfluenceError("\(request.data ?? "--data"): expected at least one readable input, got none") }
        var sizes = [batch]
        var firstSliceBatches = 1
        if options.adaptive, let count {
            let first = min(request.adaptiveFirstSlice, count)
            sizes = Array(repeating: batch, count: first / batch) + (first % batch > 0 ? [first % batch] : [])
            firstSliceBatches = max(1, sizes.count)
            sizes += ProfileRequest.adaptiveSchedule(after: first, batch: batch)
        }
        let cutter = BatchCutter(source: try source.open(batch), keep: keep, sizes: sizes)
        return (cutter.next, firstSliceBatches, count)
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
