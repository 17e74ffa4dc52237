import ChannelGroups
import Foundation
import Influence
import NetworkIR
import ONNXFormat
import Pruning
import Support

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
        channels zeroed. The plan must have been made for this model (its sha256), unless --force.
        """,
        usage: "prune <model> <plan.json> -o <pruned.onnx> [--force]",
        arguments: [ArgumentSpec(name: "MODEL", help: "The ONNX model file."),
                    ArgumentSpec(name: "PLAN", help: "The plan (plan.json) to apply.")],
        options: OptionSpec.declared(PruneRequest.self) + [ModelOptions.inputShape] + ModelOptions.limits + JSONFileOptions.specs)

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
        let pruned: ONNXModel
        do {
            pruned = try ChannelPruner(model: model, graph: loaded.graph, analysis: analysis).pruned(removing: removed)
        } catch {
            throw CLIError.input("\(modelPath) with \(planPath): \(error)")
        }
        let prunedGraph: Graph
        do {
            prunedGraph = try Importer.importGraph(pruned, options: ImportOptions(inputShape: inputShape))
        } catch {
            throw CLIError.internal("the pruned model does not import: \(error)")
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

    static func percent(_ a: Int, _ b: Int) -> String {
        b == 0 ? "-" : String(format: "%.1f%%", 100 * Double(a) / Double(b))
    }
}
