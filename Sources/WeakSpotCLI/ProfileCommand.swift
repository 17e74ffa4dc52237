import DataInput
import Support
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
        options: OptionSpec.declared(ProfileRequest.self) + [ModelOptions.inputShape] + ModelIOOptions.selection
            + PreprocessOptions.specs + ModelOptions.limits + JSONFileOptions.specs)

    static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
        var request = try arguments.request(ProfileRequest.self)
        let data = request.data ?? ""
        let modelPath = arguments.positionals[0]
        if [.acc, .loss].contains(request.measure.metric) && request.labels == nil && !isClassFolder(data) {
            throw arguments.usageError("--metric \(request.measure.metric.rawValue) needs labels: give --labels FILE or a folder of class folders")
        }
        // Refuse an unwritable output before hours of measuring, not after.
        let outputs = try ReportOutputs.resolve(arguments, checkpoint: true, console: console)
        request.checkpoint = outputs.checkpoint
        let model = try LoadedModel.load(path: modelPath, arguments, data: request.data, quiet: request.quiet, console: console).loaded
        guard let input = model.input else { throw CLIError.input("\(model.path): graph: expected an input") }
        let preprocess = try PreprocessOptions.spec(arguments, input: input)
        let dataset = try Dataset(source: try DataSource.parse(data), options: DatasetOptions(
            preprocess: preprocess, layout: PreprocessOptions.layout(input), labelsPath: request.labels, threads: request.options.threads,
            skipBad: request.skipBad, limits: try PreprocessOptions.limits(arguments), syntheticShape: input.sampleShape))
        if let note = IgnoredEntries.note(dataset, data: data) { console.printError(note) }
        request.measure.batchSize = try batchFitting(request, model: model, console: console)
        let modelHash = try SHA256.hex(ofFile: modelPath)
        let run: ProfileRun
        do { run = try ProfileRun(request: request, graph: model.graph, identity: [modelHash, PreprocessOptions.describe(preprocess)].joined(separator: "|")) } catch let e as InfluenceError {
            throw arguments.usageError(e.description)
        }
        if let calibrate = request.calibrate {
            run.calibration = try DataBatches.read(data: calibrate, labelsPath: nil, preprocess: preprocess, skipBad: request.skipBad, arguments,
                                                   model: model, batch: request.measure.batchSize, threads: request.options.threads, maxInputs: nil).map(\.input)
        }
        run.jsonLimits = try JSONFileOptions.limits(arguments)
        run.note = { console.printError($0) }
        // With a checkpoint, Ctrl-C stops after the current items and saves them (a second one
        // kills at once); without one there is nothing to save and SIGINT keeps its default.
        if request.checkpoint != nil {
            InterruptSignal.install()
            run.shouldStop = { InterruptSignal.received }
        }
        defer { if request.checkpoint != nil { InterruptSignal.uninstall() } }
        let (inputs, skippedFiles) = try readInputs(dataset, replay: run.needsReplay, batch: request.measure.batchSize, skipBad: request.skipBad)
        let started = DispatchTime.now().uptimeNanoseconds
        let progress = ProgressReporter(console: console, total: run.itemCount, unit: "items", quiet: request.quiet, start: started)
        if !request.quiet {
            let verb = request.measure.measurement == .estimatesOnly ? "scoring (--measure none)" : "profiling"
            console.printError("\(verb) \(run.itemCount) items (\(request.options.kinds.map(\.rawValue).joined(separator: ", "))\(request.measure.shard.map { ", shard \($0)" } ?? "")) of \(model.path) on \(dataset.count) inputs")
        }
        let report: JSONValue
        do {
            var lastDraw = 0.0
            report = try run.run(inputs: inputs, model: try ProfileReport.modelObject(path: modelPath, sha256: modelHash, graph: model.graph, input: input),
                                 data: { count in
                ProfileReport.dataObject(source: data, count: count, preprocessing: data.lowercased().hasSuffix(".npy")
                    ? "float32 .npy taken as preprocessed; uint8 pixels: " + PreprocessOptions.describe(preprocess)
                    : PreprocessOptions.describe(preprocess), hardExamples: request.hardExamples,
                    skipped: skippedFiles().map { ($0.path, $0.reason) }, ignored: dataset.ignored.map { ($0.path, $0.reason) })
            }, progress: { p in
                if p.done == p.total || p.elapsed - lastDraw >= 1 { lastDraw = p.elapsed; progress.update(done: p.done) }
            })
        } catch let stop as ProfileInterrupted {
            progress.finish()
            throw CLIError.interrupted(stop.description)
        }
        progress.finish()
        try outputs.write(report, console: console)
        try printSummary(report, items: run.itemCount, options: request.options, skipped: skippedFiles().count, output: "\(outputs.report)", console: console)
        return 0
    }

    /// The inputs streamed batch by batch, or replayable — each pass a fresh reader, for adaptive
    /// mode and hard examples — and the files skipped (by the last pass, once it has read them).
    /// Nothing holds the whole data set: a pass keeps one batch of decoded inputs.
    static func readInputs(_ dataset: Dataset, replay: Bool, batch: Int, skipBad: Bool) throws -> (ProfileInputs, () -> [SkippedFile]) {
        guard replay else {
            let reader = try dataset.batches(size: batch)
            return (.stream { try reader.next().map { (Tensor(shape: $0.shape, storage: $0.values), $0.labels) } }, { reader.skippedFiles })
        }
        let last = LastReader()
        // With --skip-bad the count is known only after reading; otherwise every listed input is read.
        let source = ReplayableInputs(count: skipBad ? nil : dataset.count) { size in
            let reader = try dataset.batches(size: size)
            last.reader = reader
            return { try reader.next().map { (Tensor(shape: $0.shape, storage: $0.values), $0.labels) } }
        }
        return (.replayable(source), { last.reader?.skippedFiles ?? [] })
    }

    /// The reader of the latest pass over a replayable source (whose skipped files the report lists).
    final class LastReader { var reader: BatchReader? }

    static func printSummary(_ json: JSONValue, items: Int, options: ProfileOptions, skipped: Int, output: String, console: Console) throws {
        let report: Report
        do { report = try Report(json: json) } catch { throw CLIError.internal("the report just assembled: \(error)") }
        guard report.measured else {
            console.print("scored \(items) items by \(options.estimators.map(\.rawValue).joined(separator: ", ")) on \(report.inputs) inputs in \(NumberText.fixed(report.seconds ?? .nan, decimals: 1)) s; no influence measured (--measure none)")
            if skipped > 0 { console.print("skipped \(skipped) unreadable files (listed in the report)") }
            console.print("report: \(output)")
            return
        }
        console.print("profiled \(items) items on \(report.inputs) inputs in \(NumberText.fixed(report.seconds ?? .nan, decimals: 1)) s; \(report.weakCount ?? 0) weak (threshold \(options.weakThreshold) \(options.metric.rawValue))")
        console.print("")
        console.output.write(ReportSummary.text(report, top: 10))
        if skipped > 0 { console.print("skipped \(skipped) unreadable files (listed in the report)") }
        console.print("report: \(output)")
    }

    /// `--batch`, lowered so that one batch's cached activations fit in `--max-memory` (more
    /// passes, each item's cone recomputed per pass).
    static func batchFitting(_ request: ProfileRequest, model: LoadedModel, console: Console) throws -> Int {
        let perInput = try CacheSize.bytesPerInput(model.graph)
        let fitting = request.maxMemory * 1_048_576 / max(perInput, 1)
        guard fitting >= 1 else {
            throw CLIError.input("\(model.path): one input's activations take \(perInput / 1_048_576) MiB: expected at most --max-memory \(request.maxMemory) MiB; raise --max-memory")
        }
        guard fitting < request.measure.batchSize else { return request.measure.batchSize }
        if !request.quiet {
            console.printError("--max-memory \(request.maxMemory) MiB: \(perInput / 1024) KiB of activations per input, so \(fitting) inputs per pass instead of \(request.measure.batchSize)")
        }
        return fitting
    }

    static func isClassFolder(_ data: String) -> Bool {
        if case .classFolders? = try? DataSource.parse(data) { return true }
        return false
    }
}

/// The report's JSON document type (Influence's writer: sorted keys, shortest round-trip floats).
typealias ReportJSON = JSONValue

