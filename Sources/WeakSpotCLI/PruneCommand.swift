import ChannelGroups
import Foundation
import Influence
import NetworkIR
import ONNXFormat
import Planning
import Pruning
import Support
import Training

/// `weakspot prune MODEL PLAN -o pruned.onnx`: removes the plan's channels physically.
enum PruneCommand: Command {
    static let spec = CommandSpec(
        name: "prune",
        abstract: "Apply a plan: write a physically smaller ONNX model.",
        discussion: """
        Removes the channels the plan names (plan.json, schema weakspot.plan/1, docs/plan.md): \
        producer weights and biases, BatchNormalization parameters, per-channel constants, \
        readers' input channels (Gemm columns after Flatten included), depthwise groups; Concat \
        offsets follow. The pruned model's outputs equal those of the original with the removed \
        channels zeroed. The plan must have been made for this model (its sha256), unless --force. \
        --recalibrate N --data DATA then recalibrates on the first N inputs \
        (docs/recalibration.md): --recalibration estimate re-estimates every BatchNormalization's \
        running statistics (adaptive BN, as model.train() with momentum=None); match gives each \
        layer downstream of the cut the unpruned model's per-channel mean and deviation, written \
        into its weights and bias (the default for models whose BatchNormalization is folded).
        """,
        usage: "prune <model> <plan.json> -o <pruned.onnx> [--force] [--recalibrate <n> --data <data> [--recalibration estimate|match]]",
        arguments: [ArgumentSpec(name: "MODEL", help: "The ONNX model file."),
                    ArgumentSpec(name: "PLAN", help: "The plan (plan.json) to apply.")],
        options: OptionSpec.declared(PruneRequest.self) + PreprocessOptions.specs + [ModelOptions.inputShape] + ModelOptions.limits + JSONFileOptions.specs)

    static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
        guard arguments.positionals.count == 2 else { throw arguments.usageError("expected a model and a plan") }
        let request = try arguments.request(PruneRequest.self)
        guard let output = try OutputFile.resolve(arguments, OutputOption(option: "output", defaultName: "pruned.onnx", content: .binary), console: console)?.path else {
            throw arguments.usageError("missing option '-o <pruned.onnx>'")
        }
        let modelPath = arguments.positionals[0], planPath = arguments.positionals[1]
        let inputShape = try ModelOptions.inputShape(arguments)
        let plan = try PrunePlanFile.read(path: planPath, limits: JSONFileOptions.limits(arguments))
        let (loaded, model) = try LoadedModel.loadWithONNX(path: modelPath, limits: ModelOptions.limits(arguments), inputShape: inputShape)
        if !request.force {
            guard let expected = plan.modelSHA256 else {
                throw CLIError.input("\(planPath): model.sha256: expected the sha256 of the model the plan was made for (or --force)")
            }
            let actual = try SHA256.hex(ofFile: modelPath)
            guard expected == actual else {
                throw CLIError.input("\(planPath): model.sha256 \(expected) does not match \(modelPath) (\(actual)); use --force to apply it anyway")
            }
        }
        let analysis: DependencyAnalysis
        do { analysis = try DependencyAnalysis(graph: loaded.graph) } catch { throw CLIError.input("\(modelPath): \(error)") }
        let removed = try plan.dependencyGroups(graph: loaded.graph, analysis: analysis)
        let rule = RecalibrationRule.resolve(request.recalibration,
                                             hasBatchNormStatistics: !TrainableParameters(graph: loaded.graph).runningStatistics.isEmpty)
        // `match` corrects the original's constants for this cut; the cut then carries them over.
        var source = (model: model, graph: loaded.graph)
        if let count = request.recalibrate, let data = request.data, rule == .match {
            source = try matched(model, removing: removed, analysis: analysis, request: request, count: count, data: data, arguments,
                                 loaded: loaded, console: console)
        }
        var pruned: ONNXModel
        do {
            pruned = try ChannelPruner(model: source.model, graph: source.graph, analysis: analysis).pruned(removing: removed)
        } catch {
            throw CLIError.input("\(modelPath) with \(planPath): \(error)")
        }
        var prunedGraph: Graph
        do {
            prunedGraph = try Importer.importGraph(pruned, options: ImportOptions(inputShape: inputShape))
        } catch {
            throw CLIError.internal("the pruned model does not import: \(error)")
        }
        if let count = request.recalibrate, let data = request.data, rule == .estimate {
            pruned = try recalibrated(pruned, graph: &prunedGraph, request: request, count: count, data: data, arguments, loaded: loaded, console: console)
        }
        let batch = inputShape?.first ?? 1
        let before = try loaded.cost(batch: batch)
        let after: ModelCost
        do { after = try prunedGraph.cost(batch: batch) } catch { throw CLIError.internal("the pruned model: \(error)") }
        try OutputFile.write(Data(pruned.encoded()), to: output)
        var table = TextTable(headers: ["", "before", "after", "kept"], alignments: [.left, .right, .right, .right])
        table.rows = [
            ["params", NumberText.grouped(before.params), NumberText.grouped(after.params), percent(after.params, before.params)],
            ["MACs", NumberText.grouped(before.macs), NumberText.grouped(after.macs), percent(after.macs, before.macs)],
        ]
        console.print("removed \(removed.count) channel groups: \(output)")
        console.output.write(table.rendered())
        return ExitCode.success
    }

    /// `--recalibrate N --data DATA`: the pruned model with its BatchNormalization statistics
    /// re-estimated on the first N inputs (Recalibration.swift).
    static func recalibrated(_ pruned: ONNXModel, graph: inout Graph, request: PruneRequest, count: Int, data: String, _ arguments: ParsedArguments,
                             loaded: LoadedModel, console: Console) throws -> ONNXModel {
        let batches = try calibrationInputs(data: data, count: count, request: request, arguments, loaded: loaded)
        let summary: Recalibration.Summary
        do {
            summary = try Recalibration.batchNormalization(&graph, batches: batches.map(\.input), threads: ProcessInfo.processInfo.activeProcessorCount)
        } catch { throw CLIError.input("\(loaded.path): \(error)") }
        if summary.inputs < count {
            console.printError("warning: --recalibrate \(count): \(data) holds \(summary.inputs) inputs; recalibrated on those")
        }
        console.print("recalibrated \(summary.layers) BatchNormalization layers on \(summary.inputs) inputs (\(summary.batches) batches)")
        do { return try pruned.replacingFloatConstants(Recalibration.statistics(of: graph)) } catch {
            throw CLIError.internal("writing the recalibrated statistics: \(error)")
        }
    }

    /// `--recalibrate N --recalibration match`: the original model and graph with every layer
    /// downstream of the cut corrected to the unpruned model's per-channel statistics on the first
    /// N inputs (StatisticsMatching), as the masked model measures them.
    static func matched(_ model: ONNXModel, removing removed: Set<Int>, analysis: DependencyAnalysis, request: PruneRequest, count: Int, data: String,
                        _ arguments: ParsedArguments, loaded: LoadedModel, console: Console) throws -> (model: ONNXModel, graph: Graph) {
        let threads = ProcessInfo.processInfo.activeProcessorCount
        let batches = try calibrationInputs(data: data, count: count, request: request, arguments, loaded: loaded)
        let summary: StatisticsMatching.Summary, constants: [String: [Float]]
        do {
            let verifier = try PlanVerifier(graph: loaded.graph, analysis: analysis, batches: batches.map { ($0.input, nil) }, threads: threads)
            (constants, summary) = try verifier.matchedConstants(removing: removed, inputs: count)
        } catch { throw CLIError.input("\(loaded.path): \(error)") }
        if summary.inputs < count {
            console.printError("warning: --recalibrate \(count): \(data) holds \(summary.inputs) inputs; recalibrated on those")
        }
        var graph = loaded.graph
        do { try StatisticsMatching.apply(summary.corrected, to: &graph) } catch { throw CLIError.internal("\(error)") }
        let skipped = summary.uncorrected.isEmpty ? "" : "; \(summary.uncorrected.count) without a place for the correction left as they are: " + summary.uncorrected.prefix(5).joined(separator: ", ") + (summary.uncorrected.count > 5 ? ", …" : "")
        console.print("matched the statistics of \(summary.corrected.count) layers on \(summary.inputs) inputs\(skipped)")
        do { return (try model.replacingFloatConstants(constants), graph) } catch {
            throw CLIError.internal("writing the matched constants: \(error)")
        }
    }

    /// The first `count` inputs of `--data`, in `--batch` batches, preprocessed as `profile` does.
    static func calibrationInputs(data: String, count: Int, request: PruneRequest, _ arguments: ParsedArguments, loaded: LoadedModel) throws -> [(input: Tensor, labels: [Int]?)] {
        try DataBatches.read(data: data, labelsPath: nil, preprocess: try PreprocessOptions.spec(arguments, input: loaded.input),
                             skipBad: request.skipBad, arguments, model: loaded, batch: request.batch,
                             threads: ProcessInfo.processInfo.activeProcessorCount, maxInputs: count)
    }

    static func percent(_ a: Int, _ b: Int) -> String {
        b == 0 ? "-" : String(format: "%.1f%%", 100 * Double(a) / Double(b))
    }
}
