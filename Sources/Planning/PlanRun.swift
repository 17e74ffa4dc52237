import ChannelGroups
import Execution
import Foundation
import DataInput
import Influence
import NetworkIR
import ONNXFormat
import Pruning
import Support
import Training

/// A model, its report or inputs that cannot be planned on (exit 2 without a usage hint): the
/// message names the file and what was expected.
public struct PlanInputError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// `weakspot plan` as one library call: ranks the model's groups (from the report, an estimator
/// or Taylor scores over the inputs), counts candidate prunings exactly through the pruner and the
/// importer, verifies on the inputs and returns the result with plan.json's document. The command
/// line reads the files and writes what this returns; PlannerTests call it the same way.
public struct PlanRun {
    public let request: PlanRequest
    public let model: ONNXModel
    public let graph: Graph
    /// `--input-shape`, for importing the pruned models the same way as the original.
    public let inputShape: [Int]?
    public let discovery: ItemDiscovery
    public let layerGroups: [LayerGroup]
    /// What the model's output holds (`--output-kind`, else the report's, else read from the
    /// graph): verification and Taylor scores read probabilities as probabilities.
    public var outputKind: OutputKind? = nil

    /// `modelPath` names the model in errors.
    public init(request: PlanRequest, model: ONNXModel, graph: Graph, inputShape: [Int]?, modelPath: String) throws {
        self.request = request
        self.model = model
        self.graph = graph
        self.inputShape = inputShape
        do { discovery = try ItemDiscovery(graph: graph) } catch { throw PlanInputError("\(modelPath): \(error)") }
        layerGroups = discovery.dependencies.layerGroups()
    }

    /// Plans on `report` (read from `reportPath`, which plan.json records) and `batches` (empty
    /// without `--data`). `progress` gets one line per step of the search.
    public func run(report: JSONValue, reportPath: String, modelObject: JSONValue, batches: [(input: Tensor, labels: [Int]?)],
                    progress: (String) -> Void) throws -> (result: PlanResult, document: JSONValue) {
        let options = request.options
        let verifier = batches.isEmpty ? nil : try PlanVerifier(graph: graph, analysis: discovery.dependencies, batches: batches, threads: options.threads,
                                                                   outputKind: outputKind)
        if let n = request.recalibrate {
            let hasStatistics = !TrainableParameters(graph: graph).runningStatistics.isEmpty
            let rule = RecalibrationRule.resolve(request.recalibration, hasBatchNormStatistics: hasStatistics)
            guard rule != .estimate || hasStatistics else {
                throw PlanInputError("--recalibrate \(n) --recalibration estimate: the model has no BatchNormalization with stored running statistics (exports usually fold it into the convolutions); use --recalibration match")
            }
            verifier?.recalibrateInputs = n
            verifier?.recalibrationRule = rule
        }
        let planner = try planner(report: report, reportPath: reportPath, taylor: try taylorScores(batches, threads: options.threads), verifier: verifier)
        let candidates = planner.candidates
        let remeasurer = try verifier.map { v in request.steps > 1 ? try GroupRemeasurer(graph: graph, verifier: v, batches: batches, threads: options.threads) : nil } ?? nil
        let candidateGroups = Set(candidates.map(\.group))
        let result = try planner.plan(steps: request.steps,
                                      remeasure: remeasurer.map { r in { removed in try r.influence(of: candidateGroups.subtracting(removed), removing: removed) } },
                                      progress: progress)
        var settings = Dictionary(request.settings.map { ($0.key, JSONValue($0.value)) }, uniquingKeysWith: { a, _ in a })
        settings["report"] = .string(reportPath)
        let data: JSONValue = batches.isEmpty ? .null : .object(["source": .string(request.data ?? ""),
                                                                 "count": .int(batches.reduce(0) { $0 + $1.input.shape[0] })])
        let document = PlanDocument.json(result: result, graph: graph, layerGroups: layerGroups, model: modelObject,
                                         settings: .object(settings), data: data)
        return (result, document)
    }

    /// The `--export-torch` and `--export-nni` documents of `result` (nil where not asked for).
    ///
    /// - Throws: `PlanInputError` naming the layer when a pruned group has no PyTorch module path.
    public func torchExports(_ result: PlanResult) throws(PlanInputError) -> (torch: JSONValue?, nni: JSONValue?) {
        let export = TorchExport(model: model, graph: graph, analysis: discovery.dependencies, layerGroups: layerGroups)
        let removed = Set(result.removed)
        do {
            return (try request.exportTorch.map { _ in try export.torchDocument(removing: removed) },
                    try request.exportNNI.map { _ in try export.nniConfigList(removing: removed) })
        } catch {
            throw PlanInputError("cannot export the plan to PyTorch (docs/pytorch.md): \(error)")
        }
    }

    /// The planner for this request: candidates ranked from `report` (nil for estimator
    /// criteria), exact costs counted on the pruned model through the pruner and the importer,
    /// latency probed on it for `--target latency=F`.
    public func planner(report: JSONValue?, reportPath: String = "report", taylor: TaylorAccumulator? = nil,
                        verifier: PlanVerifier?) throws -> Planner {
        let options = request.options
        let candidates: [GroupCandidate]
        do {
            candidates = try GroupCandidates.build(discovery: discovery, layerGroups: layerGroups, report: report, options: options, taylor: taylor)
        } catch { throw PlanInputError("\(reportPath): \(error)") }
        let pruner = ChannelPruner(model: model, graph: graph, analysis: discovery.dependencies)
        let importOptions = ImportOptions(inputShape: inputShape)
        var planner = Planner(discovery: discovery, layerGroups: layerGroups, candidates: candidates, options: options,
                              exactCost: { removed in try Importer.importGraph(try pruner.pruned(removing: removed), options: importOptions).cost(batch: 1) },
                              verifier: verifier)
        if case .latency? = options.target {
            guard let input = graph.inputs.first else { throw PlanInputError("graph: expected an input") }
            let shape = input.shape(batch: 1)
            let sample = Tensor(shape: shape, storage: SyntheticNormalGenerator(seed: 0).elements(from: 0, count: shape.reduce(1, *)))
            let threads = options.threads
            planner.latency = { removed in
                let graph = try Importer.importGraph(try pruner.pruned(removing: removed), options: importOptions)
                return try LatencyProbe.fastest(graph: graph, input: sample, threads: threads)
            }
        }
        return planner
    }

    /// Torch-Pruning's TaylorImportance over the inputs, for `--criterion taylor`.
    func taylorScores(_ batches: [(input: Tensor, labels: [Int]?)], threads: Int) throws -> TaylorAccumulator? {
        guard request.plan.criterion == .taylor else { return nil }
        guard !batches.isEmpty else { throw PlanInputError("--criterion taylor needs --data (gradients over the inputs)") }
        var accumulator = TaylorAccumulator(reduction: .mean, groups: true)
        let plan = try ExecutionPlan(graph: graph, options: ExecutionOptions(threads: threads))
        for b in batches {
            try accumulator.add(discovery: discovery, input: b.input, logits: try plan.run(b.input)[0], labels: b.labels,
                                outputKind: outputKind, threads: threads)
        }
        return accumulator
    }
}
