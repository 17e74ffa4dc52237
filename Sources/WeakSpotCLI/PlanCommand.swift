import ChannelGroups
import DataInput
import Execution
import Foundation
import Influence
import NetworkIR
import Planning
import Pruning
import Support

/// `weakspot plan MODEL REPORT --target macs=0.5 --data DATA -o plan.json`.
enum PlanCommand: Command {
    static let spec = CommandSpec(
        name: "plan",
        abstract: "Choose what to prune for a target.",
        discussion: """
        Ranks the model's prunable channel groups by measured influence per MAC (or parameter) \
        saved — from a report made with --items groups — or by an estimator (--criterion l1|l2|bn, \
        --uniform for the same fraction per layer), and takes the shortest prefix whose pruned \
        model meets --target (the pruned model is built and counted, so the figures are exact). \
        With --data the whole plan is measured as masks on the inputs, and limits (--max-kl, \
        --max-top1, --max-acc-drop) shrink it until they hold; plan.json shows the predicted \
        (sum of single removals) and measured metrics side by side. The first layer is kept \
        unless --prune-first. Damage before fine-tuning predicts accuracy after it only weakly.
        """,
        usage: "plan <model> <report.json> --target macs=F [--data <data>] [-o <plan.json>] [<options>]",
        arguments: [ArgumentSpec(name: "MODEL", help: "The ONNX model the report was made for."),
                    ArgumentSpec(name: "REPORT", help: "Its report (with --items groups for --criterion measured).")],
        options: [
            .value("target", "what=F", help: "Keep at most fraction F: macs=F or params=F."),
            .value("data", "data", help: "Inputs to measure the plan on (a .npy file, an image folder, class folders, synthetic:N)."),
            .value("labels", "file", help: "Labels, for --max-acc-drop and per-class accuracy."),
            .value("max-kl", "x", help: "Largest mean KL divergence of the pruned model's outputs."),
            .value("max-top1", "x", help: "Largest fraction of inputs whose top-1 class changes."),
            .value("max-acc-drop", "x", help: "Largest accuracy drop (needs labels)."),
            .value("criterion", "name", help: "measured, l1, l2, bn or taylor (Torch-Pruning's TaylorImportance over --data).", default: "measured"),
            .flag("uniform", help: "Remove the same fraction of every layer (by the criterion), as Li et al. 2017."),
            .value("min-channels", "k", help: "Every layer keeps at least K channels.", default: "1"),
            .value("max-layer-sparsity", "f", help: "No layer loses more than this fraction.", default: "0.9"),
            .value("round-to", "m", help: "Keep channel counts multiples of M.", default: "1"),
            .value("keep", "glob", help: "Never prune layers matching these globs (comma-separated)."),
            .flag("prune-first", help: "Allow pruning the first layer (kept by default)."),
            .value("steps", "k", help: "Prune in K rounds, re-profiling between rounds.", default: "1"),
            .value("max-inputs", "n", help: "Measure on at most N inputs."),
            .value("batch", "b", help: "Inputs per pass.", default: "16"),
            .value("threads", "t", help: "Threads.", default: "all cores"),
            .value("output", short: "o", "plan.json", help: "Where to write the plan.", default: "plan.json"),
            .flag("force", help: "Use a report made for another model file (sha256 differs)."),
            .flag("skip-bad", help: "Skip images that cannot be decoded."),
            .flag("quiet", short: "q", help: "No progress on standard error."),
            ModelOptions.inputShape,
            ModelIOOptions.outputKind,
        ] + ModelIOOptions.selection + PreprocessOptions.specs + ModelOptions.limits + JSONFileOptions.specs)

    static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
        guard arguments.positionals.count == 2 else { throw arguments.usageError("expected a model and a report") }
        let (modelPath, reportPath) = (arguments.positionals[0], arguments.positionals[1])
        var options = PlanOptions()
        do {
            options.target = try arguments.value("target").map { try PlanTarget.parse($0) }
        } catch { throw arguments.usageError("\(error)") }
        func limit(_ name: String) throws -> Double? {
            guard let text = arguments.value(name) else { return nil }
            guard let v = Double(text), v.isFinite, v >= 0 else { throw arguments.usageError("--\(name): expected a non-negative number, got '\(text)'") }
            return v
        }
        options.limits.maxKL = try limit("max-kl")
        options.limits.maxTop1 = try limit("max-top1")
        options.limits.maxAccDrop = try limit("max-acc-drop")
        guard options.target != nil || !options.limits.isEmpty else {
            throw arguments.usageError("expected --target macs=F or params=F, or a limit (--max-kl, --max-top1, --max-acc-drop)")
        }
        if !options.limits.isEmpty && arguments.value("data") == nil {
            throw arguments.usageError("limits (--max-kl, --max-top1, --max-acc-drop) need --data to measure the plan on")
        }
        if options.limits.maxAccDrop != nil && arguments.value("labels") == nil && !ProfileCommand.isClassFolder(arguments.value("data") ?? "") {
            throw arguments.usageError("--max-acc-drop needs labels: give --labels FILE or a folder of class folders")
        }
        options.criterion = PlanCriterion(rawValue: try arguments.choice("criterion", PlanCriterion.allCases.map(\.rawValue), default: "measured"))!
        options.uniform = arguments.flag("uniform")
        options.minChannels = try arguments.integer("min-channels", default: 1, in: 1...1_000_000)
        if let text = arguments.value("max-layer-sparsity") {
            guard let v = Double(text), v > 0, v < 1 else { throw arguments.usageError("--max-layer-sparsity: expected a number in (0, 1), got '\(text)'") }
            options.maxLayerSparsity = v
        }
        options.roundTo = try arguments.integer("round-to", default: 1, in: 1...4096)
        options.keep = arguments.value("keep").map { $0.split(separator: ",").map(String.init) } ?? []
        options.pruneFirst = arguments.flag("prune-first")
        options.threads = try arguments.integer("threads", default: ProcessInfo.processInfo.activeProcessorCount, in: 1...1024)
        let steps = try arguments.integer("steps", default: 1, in: 1...100)
        if steps > 1 && (arguments.value("data") == nil || options.target == nil || options.criterion != .measured || options.uniform) {
            throw arguments.usageError("--steps \(steps) re-measures the remaining groups between rounds: it needs --target, --data and --criterion measured (not --uniform)")
        }
        if options.uniform && options.criterion == .measured {
            throw arguments.usageError("--uniform ranks within each layer by an estimator: give --criterion l1, l2 or bn")
        }
        let batch = try arguments.integer("batch", default: 16, in: 1...4096)
        let maxInputs = try arguments.value("max-inputs").map { try ParsedArguments.integer($0, option: "max-inputs", in: 1...10_000_000, command: "plan") }
        let output = try OutputFile.resolve(arguments, OutputOption(option: "output", defaultName: "plan.json"), default: "plan.json", console: console)!

        let report = try ReportFile.load(reportPath, limits: JSONFileOptions.limits(arguments))
        let modelHash = try SHA256.hex(ofFile: modelPath)
        if report["model"]?["sha256"]?.stringValue != modelHash && !arguments.flag("force") {
            throw CLIError.input("\(reportPath): model.sha256 does not match \(modelPath) (\(modelHash)): the report is for another model; use --force to plan anyway")
        }
        let (loaded, onnx) = try LoadedModel.load(path: modelPath, arguments, console: console)
        // The shape the model was imported with, for re-importing pruned candidates.
        let inputShape = try ModelIOOptions.importShape(arguments, dataInput: ModelInterface.runtimeInputs(onnx).first)
        let graph = loaded.graph
        // Auto: the kind the report was measured with, so plan and profile read the output alike.
        let outputKind = try ModelIOOptions.outputKind(arguments)
            ?? report["model"]?["outputKind"]?.stringValue.flatMap(OutputKind.init(rawValue:))
            ?? OutputKind.detect(graph)
        let discovery: ItemDiscovery
        do { discovery = try ItemDiscovery(graph: graph) } catch { throw CLIError.input("\(modelPath): \(error)") }
        let layerGroups = discovery.dependencies.layerGroups()
        let batches = try DataBatches.read(arguments, model: loaded, batch: batch, threads: options.threads, maxInputs: maxInputs)
        var taylor: TaylorAccumulator? = nil
        if options.criterion == .taylor {
            guard !batches.isEmpty else { throw arguments.usageError("--criterion taylor needs --data (gradients over the inputs)") }
            var accumulator = TaylorAccumulator(reduction: .mean, groups: true)
            let plan = try ExecutionPlan(graph: graph, options: ExecutionOptions(threads: options.threads))
            for b in batches {
                try accumulator.add(discovery: discovery, input: b.input, logits: try plan.run(b.input)[0], labels: b.labels,
                                    outputKind: outputKind, threads: options.threads)
            }
            taylor = accumulator
        }
        let candidates: [GroupCandidate]
        do {
            candidates = try GroupCandidates.build(discovery: discovery, layerGroups: layerGroups, report: report, options: options, taylor: taylor)
        } catch { throw CLIError.input("\(reportPath): \(error)") }
        let pruner = ChannelPruner(model: onnx, graph: graph, analysis: discovery.dependencies)
        let exactCost: (Set<Int>) throws -> ModelCost = { removed in
            let pruned = try pruner.pruned(removing: removed)
            return try Importer.importGraph(pruned, options: ImportOptions(inputShape: inputShape)).cost(batch: 1)
        }
        if batches.isEmpty && !arguments.flag("quiet") { console.printError(PlanDocument.unverifiedWarning) }
        let verifier = batches.isEmpty ? nil : try PlanVerifier(graph: graph, analysis: discovery.dependencies, batches: batches, threads: options.threads,
                                                                   outputKind: outputKind)
        let quiet = arguments.flag("quiet")
        var planner = Planner(discovery: discovery, layerGroups: layerGroups, candidates: candidates, options: options,
                              exactCost: exactCost, verifier: verifier)
        if case .latency? = options.target {
            guard let input = loaded.input else { throw CLIError.input("\(modelPath): graph: expected an input") }
            let sample = Tensor(shape: input.shape(batch: 1), storage: SyntheticNormalGenerator(seed: 0).elements(from: 0, count: input.shape(batch: 1).reduce(1, *)))
            let threads = options.threads
            planner.latency = { removed in
                let graph = try Importer.importGraph(try pruner.pruned(removing: removed), options: ImportOptions(inputShape: inputShape))
                return try LatencyProbe.fastest(graph: graph, input: sample, threads: threads)
            }
        }
        let started = Date()
        let result: PlanResult
        let remeasurer = try verifier.map { v in steps > 1 ? try GroupRemeasurer(graph: graph, verifier: v, batches: batches, threads: options.threads) : nil } ?? nil
        let candidateGroups = Set(candidates.map(\.group))
        do {
            result = try planner.plan(steps: steps, remeasure: remeasurer.map { r in { removed in try r.influence(of: candidateGroups.subtracting(removed), removing: removed) } },
                                      progress: { if !quiet { console.printError("plan: " + $0) } })
        } catch let e as PlanError { throw arguments.usageError(e.description) }

        let settings: JSONValue = .object([
            "target": options.target.map { .string($0.description) } ?? .null, "criterion": .string(options.criterion.rawValue),
            "uniform": .bool(options.uniform), "maxKL": options.limits.maxKL.map { .double($0) } ?? .null,
            "maxTop1": options.limits.maxTop1.map { .double($0) } ?? .null, "maxAccDrop": options.limits.maxAccDrop.map { .double($0) } ?? .null,
            "minChannels": .int(options.minChannels), "maxLayerSparsity": .double(options.maxLayerSparsity), "roundTo": .int(options.roundTo),
            "keep": .array(options.keep.map { .string($0) }), "pruneFirst": .bool(options.pruneFirst), "steps": .int(steps),
            "report": .string(reportPath),
        ])
        let data: JSONValue = batches.isEmpty ? .null : .object(["source": .string(arguments.value("data") ?? ""),
                                                                 "count": .int(batches.reduce(0) { $0 + $1.input.shape[0] })])
        let document = PlanDocument.json(result: result, graph: graph, layerGroups: layerGroups,
                                         model: .object(["path": .string(modelPath), "sha256": .string(modelHash)]), settings: settings, data: data)
        try OutputFile.write(document.rendered(oneLineFrom: 2), to: output, console: console)
        printSummary(result, options: options, seconds: Date().timeIntervalSince(started), output: output.description, console: console)
        return ExitCode.success
    }

    static func printSummary(_ r: PlanResult, options: PlanOptions, seconds: Double, output: String, console: Console) {
        var table = TextTable(headers: ["", "before", "after", "kept"], alignments: [.left, .right, .right, .right])
        table.rows = [
            ["params", NumberText.grouped(r.before.params), NumberText.grouped(r.after.params), PruneCommand.percent(r.after.params, r.before.params)],
            ["MACs", NumberText.grouped(r.before.macs), NumberText.grouped(r.after.macs), PruneCommand.percent(r.after.macs, r.before.macs)],
        ]
        console.print("plan: remove \(r.removed.count) channel groups (\(options.criterion.rawValue)\(options.uniform ? ", uniform" : "")) in \(NumberText.fixed(seconds, decimals: 1)) s")
        console.output.write(table.rendered())
        var metrics = TextTable(headers: ["metric", "predicted", "measured"], alignments: [.left, .right, .right])
        for name in ["kl", "mse", "top1", "acc"] where r.predicted?[name] != nil || r.measured?[name] != nil {
            metrics.rows.append([name, r.predicted?[name].map { NumberText.scientific($0) } ?? "-", r.measured?[name].map { NumberText.scientific($0) } ?? "-"])
        }
        if !metrics.rows.isEmpty { console.output.write(metrics.rendered()) }
        if !r.targetMet { console.print("note: the target was not met\(r.backedOff ? " (a limit made the plan back off)" : "")") }
        console.print(PlanDocument.caveat)
        console.print("plan: \(output)")
    }
}
