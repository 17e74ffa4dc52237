import DataInput
import Dispatch
import Execution
import Foundation
import Influence
import NetworkIR
import Reporting
import Support

/// `weakspot profile MODEL --data DATA -o report.json`: measured influence of every item.
enum ProfileCommand: Command {
    static let spec = CommandSpec(
        name: "profile",
        abstract: "Measure the influence of each channel, group, layer or tensor.",
        discussion: """
        Each item is perturbed (zeroed by default) where its consumers read it, and the change of \
        the model's output is measured on every input: kl, mse, top1 (and acc, loss with labels). \
        Only the part of the network the perturbation reaches is recomputed, from cached \
        activations. The report (schema weakspot.report/1, docs/report.md) gives each item its \
        influence with a bootstrap 95% interval; an item is weak when the interval's upper end is \
        below --weak-threshold. --checkpoint saves finished items as it goes; --resume continues. \
        --shard I/N measures every N-th item (a cluster array job); 'weakspot merge' joins shards.
        """,
        usage: "profile <model> --data <data> [-o <report.json>] [<options>]",
        arguments: [ArgumentSpec(name: "MODEL", help: "The ONNX model file.")],
        options: [
            .value("data", "data", help: "The inputs: a .npy file, an image folder, class folders or synthetic:N[:SEED]."),
            .value("output", short: "o", "report.json", help: "Where to write the report.", default: "report.json"),
            .value("items", "kinds", help: "channels, groups, layers, tensors (comma-separated).", default: "channels"),
            .value("layers", "glob", help: "Only producers whose node name matches one of these globs (* and ?, comma-separated)."),
            .value("perturb", "kind", help: "zero, scale:A, noise:S (S × the weights' std, seeded), quantize:B (bits, per output channel) or prune:S1,S2,… (layer sweeps).", default: "zero"),
            .value("prune-mode", "mode", help: "What a prune sweep removes: filters (smallest L1) or unstructured (smallest weights).", default: "filters"),
            .value("ablate-at", "point", help: "structural (end of the per-channel tail) or output (raw output, before BatchNormalization).", default: "structural"),
            .value("metric", "name", help: "The metric that becomes the influence: kl, mse, top1, acc, loss.", default: "kl"),
            .value("weak-threshold", "x", help: "Weak when the 95% interval's upper end is below this (metric units), or q:F for the F-quantile of the measured influence (q:0.1 = the lowest decile).", default: "0.001"),
            .value("seed", "n", help: "Seed of the bootstrap intervals.", default: "0"),
            .value("batch", "b", help: "Inputs per pass; activations of one batch are cached at a time.", default: "16"),
            .value("max-memory", "MiB", help: "Bound on the cached activations of one batch: a smaller batch is used when they would not fit.", default: "4096"),
            .value("threads", "t", help: "Threads.", default: "all cores"),
            .value("bootstrap", "n", help: "Bootstrap resamples per item.", default: "1000"),
            .value("estimators", "list", help: "Cheap criteria to compute alongside and compare: l1, l2, bn, apoz, meanact, taylor, random (comma-separated). taylor uses --labels, else the model's own top-1 class."),
            .value("normalize", "how", help: "Per-layer normalisation of estimator scores: none, max, mean, l2, lamp.", default: "none"),
            .value("group-reduction", "how", help: "How a group's estimator score combines its parts: sum, mean, max.", default: "sum"),
            .value("latent-fraction", "q", help: "q of the latent rule: estimator's weakest q but measured strongest q, or the reverse.", default: "0.2"),
            .flag("adaptive", help: "Measure every item on a first slice of the inputs, the rest only where the interval straddles the threshold."),
            .value("adaptive-slice", "n", help: "Inputs in the adaptive first slice.", default: "a quarter of the inputs, at least 4"),
            .value("hard-examples", "k", help: "Measure on the K inputs with the smallest top-1 margin."),
            .value("shard", "i/n", help: "Measure the I-th of N disjoint slices of the items."),
            .value("checkpoint", "file", help: "Save finished items here as the run goes (atomically)."),
            .flag("resume", help: "Continue from --checkpoint."),
            .value("csv", "file", help: "Also write one row per item as CSV."),
            .value("html", "file", help: "Also write a self-contained HTML page with charts and the weak-item table."),
            .value("labels", "file", help: "Labels: .npy of integers or a text file; enables acc and loss."),
            .flag("skip-bad", help: "Skip images that cannot be decoded instead of stopping."),
            .flag("quiet", short: "q", help: "No progress on standard error."),
            ModelOptions.inputShape,
            ModelIOOptions.outputKind,
        ] + ModelIOOptions.selection + PreprocessOptions.specs + ModelOptions.limits + JSONFileOptions.specs)

    static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
        guard let data = arguments.value("data") else { throw arguments.usageError("missing option '--data <data>'") }
        let modelPath = arguments.positionals[0]
        var options = ProfileOptions()
        do {
            options.kinds = try (arguments.value("items") ?? "channels").split(separator: ",").map { text in
                let singular = text.hasSuffix("s") ? String(text.dropLast()) : String(text)
                guard let kind = ItemKind(rawValue: singular) else {
                    throw arguments.usageError("--items: expected channels, groups, layers or tensors, got '\(text)'")
                }
                return kind
            }
            options.layerPattern = arguments.value("layers")
            options.perturbation = try Perturbation.parse(arguments.value("perturb") ?? "zero")
            if case .prune = options.perturbation, arguments.value("items") == nil { options.kinds = [.layer] }
            options.pruneMode = PruneMode(rawValue: try arguments.choice("prune-mode", PruneMode.allCases.map(\.rawValue), default: "filters"))!
            options.ablateAt = AblationPoint(rawValue: try arguments.choice("ablate-at", AblationPoint.allCases.map(\.rawValue), default: "structural"))!
            options.metric = MetricName(rawValue: try arguments.choice("metric", MetricName.allCases.map(\.rawValue), default: "kl"))!
            if let t = arguments.value("weak-threshold") {
                if t.hasPrefix("q:") {
                    guard let q = Double(t.dropFirst(2)), q > 0, q < 1 else { throw arguments.usageError("--weak-threshold: expected q:F with 0 < F < 1, got '\(t)'") }
                    options.weakQuantile = q
                } else {
                    guard let v = Double(t), v.isFinite, v >= 0 else { throw arguments.usageError("--weak-threshold: expected a non-negative number or q:F, got '\(t)'") }
                    options.weakThreshold = v
                }
            }
            options.seed = UInt64(try arguments.integer("seed", default: 0, in: 0...Int.max))
            options.batchSize = try arguments.integer("batch", default: 16, in: 1...4096)
            options.threads = try arguments.integer("threads", default: ProcessInfo.processInfo.activeProcessorCount, in: 1...1024)
            options.bootstrapResamples = try arguments.integer("bootstrap", default: 1000, in: 0...1_000_000)
            options.adaptive = arguments.flag("adaptive")
            options.adaptiveSlice = try arguments.value("adaptive-slice").map { try ParsedArguments.integer($0, option: "adaptive-slice", in: 1...1_000_000, command: "profile") }
            if let list = arguments.value("estimators") {
                options.estimators = try list.split(separator: ",").map { name in
                    guard let kind = EstimatorKind(rawValue: String(name)) else {
                        throw arguments.usageError("--estimators: expected l1, l2, bn, apoz, meanact, taylor or random, got '\(name)'")
                    }
                    return kind
                }
            }
            options.groupReduction = GroupReduction(rawValue: try arguments.choice("group-reduction", GroupReduction.allCases.map(\.rawValue), default: "sum"))!
            options.normalizer = ScoreNormalizer(rawValue: try arguments.choice("normalize", ScoreNormalizer.allCases.map(\.rawValue), default: "none"))!
            if options.adaptive && options.weakQuantile != nil {
                throw arguments.usageError("--adaptive needs an absolute --weak-threshold: a quantile is known only after every item is measured")
            }
            if let q = arguments.value("latent-fraction") {
                guard let v = Double(q), v > 0, v <= 0.5 else { throw arguments.usageError("--latent-fraction: expected a number in (0, 0.5], got '\(q)'") }
                options.latentFraction = v
            }
            options.shard = try arguments.value("shard").map { try Shard.parse($0) }
            options.outputKind = try OutputKind.parse(arguments.value("output-kind") ?? "auto")
        } catch let e as InfluenceError {
            throw arguments.usageError(e.description)
        }
        if [.acc, .loss].contains(options.metric) && arguments.value("labels") == nil && !isClassFolder(data) {
            throw arguments.usageError("--metric \(options.metric.rawValue) needs labels: give --labels FILE or a folder of class folders")
        }
        if arguments.flag("resume") && arguments.value("checkpoint") == nil { throw arguments.usageError("--resume needs --checkpoint FILE") }
        let quiet = arguments.flag("quiet")
        // Refuse an unwritable output before hours of measuring, not after.
        let outputs = try ReportOutputs.resolve(arguments, checkpoint: true, console: console)

        let model = try LoadedModel.load(path: modelPath, arguments, console: console).loaded
        guard let input = model.input else { throw CLIError.input("\(model.path): graph: expected an input") }
        let preprocess = try PreprocessOptions.spec(arguments, input: input)
        let datasetOptions = DatasetOptions(preprocess: preprocess, layout: PreprocessOptions.layout(input),
                                            labelsPath: arguments.value("labels"), threads: options.threads,
                                            skipBad: arguments.flag("skip-bad"), limits: try PreprocessOptions.limits(arguments),
                                            syntheticShape: input.sampleShape)
        let dataset = try Dataset(source: try DataSource.parse(data), options: datasetOptions)
        if let note = IgnoredEntries.note(dataset, data: data) { console.printError(note) }
        // Memory bound: the cache holds every activation of one batch; fewer inputs per pass (more
        // passes, each item's cone recomputed per pass) keep it under --max-memory.
        let maxMemory = try arguments.integer("max-memory", default: 4096, in: 16...16_777_216)
        let perInput = try CacheSize.bytesPerInput(model.graph)
        let fitting = maxMemory * 1_048_576 / max(perInput, 1)
        guard fitting >= 1 else {
            throw CLIError.input("\(modelPath): one input's activations take \(perInput / 1_048_576) MiB: expected at most --max-memory \(maxMemory) MiB; raise --max-memory")
        }
        if fitting < options.batchSize {
            if !arguments.flag("quiet") {
                console.printError("--max-memory \(maxMemory) MiB: \(perInput / 1024) KiB of activations per input, so \(fitting) inputs per pass instead of \(options.batchSize)")
            }
            options.batchSize = fitting
        }
        let profiler: Profiler
        do { profiler = try Profiler(graph: model.graph, options: options) } catch let e as InfluenceError {
            throw arguments.usageError(e.description)
        }

        // Inputs: streamed batch by batch; adaptive mode and hard examples need them all first.
        let reader = try dataset.batches(size: options.batchSize)
        var batches: [(Tensor, [Int]?)] = []
        var streaming = true
        let hardK = try arguments.value("hard-examples").map { try ParsedArguments.integer($0, option: "hard-examples", in: 1...1_000_000, command: "profile") }
        if options.adaptive || hardK != nil {
            streaming = false
            var all: [Float] = [], labels: [Int] = [], shape: [Int] = [], hasLabels = false
            while let b = try reader.next() {
                all += b.values; shape = b.shape
                if let l = b.labels { labels += l; hasLabels = true }
            }
            let per = shape.dropFirst().reduce(1, *)
            var count = per > 0 ? all.count / per : 0
            guard count > 0 else { throw CLIError.input("\(data): expected at least one readable input, got none") }
            var x = Tensor(shape: [count] + shape.dropFirst(), storage: all)
            var y: [Int]? = hasLabels ? labels : nil
            if let k = hardK {
                let logits = try model.plan(threads: options.threads).run(x)[0]
                let chosen = HardExamples.select(logits: logits.storage, count: count, k: min(k, count))
                x = Tensor(shape: [chosen.count] + shape.dropFirst(), storage: chosen.flatMap { Array(all[$0 * per ..< ($0 + 1) * per]) })
                y = y.map { l in chosen.map { l[$0] } }
                count = chosen.count
                console.printError("hard examples: \(chosen.count) of \(all.count / per) inputs (smallest top-1 margin)")
            }
            var slices: [Int] = []
            if options.adaptive {
                let first = options.adaptiveSlice ?? max(ProfileOptions.adaptiveMinimumInputs, count / 4)
                var start = min(first, count)
                slices.append(start)
                while start < count { let s = min(options.batchSize, count - start); slices.append(s); start += s }
            } else {
                var start = 0
                while start < count { let s = min(options.batchSize, count - start); slices.append(s); start += s }
            }
            var start = 0
            for s in slices where s > 0 {
                batches.append((Tensor(shape: [s] + shape.dropFirst(), storage: Array(x.storage[start * per ..< (start + s) * per])),
                                y.map { Array($0[start ..< start + s]) }))
                start += s
            }
        }

        let modelHash = try SHA256.hex(ofFile: modelPath)
        let fingerprint = [modelHash, data, PreprocessOptions.describe(preprocess), options.fingerprint, hardK.map(String.init) ?? "-"].joined(separator: "|")
        let session = ProfileSession(profiler: profiler, checkpointPath: outputs.checkpoint, fingerprint: fingerprint)
        session.jsonLimits = try JSONFileOptions.limits(arguments)
        // With a checkpoint, Ctrl-C stops after the current items and saves them (a second one
        // kills at once); without one there is nothing to save and SIGINT keeps its default.
        if session.checkpointPath != nil {
            InterruptSignal.install()
            session.shouldStop = { InterruptSignal.received }
        }
        defer { if session.checkpointPath != nil { InterruptSignal.uninstall() } }
        let total = profiler.items.count
        let started = DispatchTime.now().uptimeNanoseconds
        let progress = ProgressReporter(console: console, total: total, unit: "items", quiet: quiet, start: started)
        var lastDraw = 0.0
        var pass = 0
        if !quiet {
            console.printError("profiling \(total) items (\(options.kinds.map(\.rawValue).joined(separator: ", "))\(options.shard.map { ", shard \($0)" } ?? "")) of \(model.path) on \(dataset.count) inputs")
        }
        let measurements: ProfileMeasurements
        do { measurements = try session.run(
            resume: arguments.flag("resume"),
            nextBatch: {
                pass += 1
                if !streaming { return batches.isEmpty ? nil : batches.removeFirst() }
                guard let b = try reader.next() else { return nil }
                return (Tensor(shape: b.shape, storage: b.values), b.labels)
            },
            progress: { p in
                if p.done == p.total || p.elapsed - lastDraw >= 1 {
                    lastDraw = p.elapsed
                    progress.update(done: p.done)
                }
            })
        } catch let stop as ProfileInterrupted {
            progress.finish()
            throw CLIError.interrupted(stop.description)
        }
        progress.finish()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let cost = try model.cost(batch: 1)
        let modelJSON: ReportJSON = .object([
            "path": .string(modelPath), "sha256": .string(modelHash), "params": .int(cost.params), "macs": .int(cost.macs),
            "inputShape": .array(([1] + input.sampleShape).map { .int($0) }), "layout": .string(input.layout.rawValue),
            "outputKind": .string(profiler.outputKind.rawValue), "output": .string(model.graph.values[model.graph.outputs[0]].name),
        ])
        let skipped = reader.skippedFiles
        let dataJSON: ReportJSON = .object([
            "source": .string(data), "count": .int(measurements.baseline.count),
            "preprocessing": .string(data.lowercased().hasSuffix(".npy")
                ? "float32 .npy taken as preprocessed; uint8 pixels: " + PreprocessOptions.describe(preprocess)
                : PreprocessOptions.describe(preprocess)),
            "hardExamples": hardK.map { .int($0) } ?? .null,
            "skipped": .array(skipped.map { .object(["path": .string($0.path), "reason": .string($0.reason)]) }),
            "ignored": .array(dataset.ignored.map { .object(["path": .string($0.path), "reason": .string($0.reason)]) }),
        ])
        let header = try ProfileReport.header(graph: model.graph, discovery: profiler.discovery, model: modelJSON, data: dataJSON,
                                              options: options, baseline: measurements.baseline, itemsTotal: profiler.allItems.count)
        let document = ProfileReport.assemble(header: header, items: ProfileReport.itemObjects(measurements, options: options, discovery: profiler.discovery),
                                              timing: .object(["seconds": .double((seconds * 1000).rounded() / 1000)]))
        try outputs.write(document, console: console)
        let weak = document["summary"]?["weak"]?.intValue ?? 0
        console.print("profiled \(total) items on \(measurements.baseline.count) inputs in \(NumberText.fixed(seconds, decimals: 1)) s; \(weak) weak (threshold \(options.weakThreshold) \(options.metric.rawValue))")
        console.print("")
        console.output.write(ReportSummary.text(document, top: 10))
        if !skipped.isEmpty { console.print("skipped \(skipped.count) unreadable files (listed in the report)") }
        console.print("report: \(outputs.report)")
        return 0
    }

    static func isClassFolder(_ data: String) -> Bool {
        if case .classFolders? = try? DataSource.parse(data) { return true }
        return false
    }
}

/// The report's JSON document type (Influence's writer: sorted keys, shortest round-trip floats).
typealias ReportJSON = JSONValue

