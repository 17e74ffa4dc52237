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
        options: OptionSpec.declared(PlanRequest.self) + [ModelOptions.inputShape, ModelIOOptions.outputKind] + ModelIOOptions.selection
            + PreprocessOptions.specs + ModelOptions.limits + JSONFileOptions.specs)

    static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
        guard arguments.positionals.count == 2 else { throw arguments.usageError("expected a model and a report") }
        let (modelPath, reportPath) = (arguments.positionals[0], arguments.positionals[1])
        let request = try arguments.request(PlanRequest.self)
        if request.plan.limits.maxAccDrop != nil && request.labels == nil && !ProfileCommand.isClassFolder(request.data ?? "") {
            throw arguments.usageError("--max-acc-drop needs labels: give --labels FILE or a folder of class folders")
        }
        let outputs = try OutputFile.resolve(arguments, [(OutputOption(option: "output", defaultName: "plan.json"), arguments.value("output") ?? "plan.json"),
                                                         (OutputOption(option: "export-torch", defaultName: "torch-prune.json"), request.exportTorch),
                                                         (OutputOption(option: "export-nni", defaultName: "nni-config.json"), request.exportNNI)],
                                             console: console)
        let output = outputs[0]!
        let report = try ReportFile.load(reportPath, limits: JSONFileOptions.limits(arguments),
                                         measuredFor: request.plan.criterion == .measured ? "plan --criterion measured" : nil)
        let modelHash = try SHA256.hex(ofFile: modelPath)
        if report.modelSHA256 != modelHash && !request.force {
            throw CLIError.input("\(reportPath): model.sha256 does not match \(modelPath) (\(modelHash)): the report is for another model; use --force to plan anyway")
        }
        let (loaded, onnx) = try LoadedModel.load(path: modelPath, arguments, data: request.data, quiet: request.quiet, console: console)
        // The shape the model was imported with, for re-importing pruned candidates.
        let inputShape = try ModelIOOptions.importShape(arguments, data: request.data, dataInput: ModelInterface.runtimeInputs(onnx).first)
        let threads = request.options.threads
        let batches = try request.data.map { data in
            try DataBatches.read(data: data, labelsPath: request.labels, preprocess: try PreprocessOptions.spec(arguments, input: loaded.input),
                                 skipBad: request.skipBad, arguments, model: loaded, batch: request.batch, threads: threads, maxInputs: request.maxInputs)
        } ?? []
        if batches.isEmpty && !request.quiet { console.printError(PlanDocument.unverifiedWarning) }
        let started = Date()
        if request.quantize {
            let calibration = try request.calibrate.map { data in
                try DataBatches.read(data: data, labelsPath: nil, preprocess: try PreprocessOptions.spec(arguments, input: loaded.input),
                                     skipBad: request.skipBad, arguments, model: loaded, batch: request.batch, threads: threads, maxInputs: nil).map(\.input)
            }
            return try QuantizationPlanText.run(request: request, arguments: arguments, modelPath: modelPath, reportPath: reportPath, modelHash: modelHash,
                                                report: report, loaded: loaded, onnx: onnx, inputShape: inputShape, batches: batches,
                                                calibration: calibration, output: output, started: started, console: console)
        }
        let planned: (result: PlanResult, document: JSONValue)
        let exports: (torch: JSONValue?, nni: JSONValue?)
        do {
            var run = try PlanRun(request: request, model: onnx, graph: loaded.graph, inputShape: inputShape, modelPath: modelPath)
            // Auto: the kind the report was measured with, so plan and profile read the output alike.
            run.outputKind = try ModelIOOptions.outputKind(arguments) ?? report.outputKind
            planned = try run.run(report: report.json, reportPath: reportPath, modelObject: .object(["path": .string(modelPath), "sha256": .string(modelHash)]),
                     batches: batches, progress: { if !request.quiet { console.printError("plan: " + $0) } })
            exports = try run.torchExports(planned.result)
        } catch let e as PlanError {
            throw arguments.usageError(e.description)
        } catch let e as PlanInputError {
            throw CLIError.input(e.description)
        }
        try OutputFile.write(planned.document.rendered(oneLineFrom: 2), to: output, console: console)
        for (document, destination) in [(exports.torch, outputs[1]), (exports.nni, outputs[2])] {
            if let document, let destination { try OutputFile.write(document.rendered(oneLineFrom: 2), to: destination, console: console) }
        }
        printSummary(planned.result, options: request.options, seconds: Date().timeIntervalSince(started), output: output.description, console: console)
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
