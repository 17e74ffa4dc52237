import ChannelGroups
import Execution
import Influence
import NetworkIR
import Pruning

/// The joint effect of removing many groups at once, measured: every removed channel zeroed
/// where its consumers read it (the masked model, whose outputs the pruned model reproduces),
/// one forward pass per batch. The sum of single removals is only a prediction — removals
/// interact — so the planner checks every candidate plan this way.
public final class PlanVerifier: @unchecked Sendable {
    let graph: Graph
    let plan: ExecutionPlan
    let analysis: DependencyAnalysis
    let tailEnd: [Int: ValueID]
    /// The channel axis of each tail end (3 after an NHWC Transpose).
    let tailAxis: [ValueID: Int]
    let batches: [(input: Tensor, labels: [Int]?)]
    let baselines: [Baseline]
    let logits: ValueID
    /// What the model's output holds; every metric uses it for that.
    public let outputKind: OutputKind
    /// Forward passes run so far (each over every batch).
    public private(set) var evaluations = 0
    let threads: Int
    /// `plan --recalibrate N`: measure candidates after BatchNormalization recalibration on the
    /// first N inputs (RecalibratedVerification.swift).
    public var recalibrateInputs: Int? = nil
    /// How `recalibrateInputs` recalibrates.
    public var recalibrationRule: RecalibrationRule = .estimate

    /// `outputKind` nil reads the kind from the graph (`OutputKind.detect`).
    public init(graph: Graph, analysis: DependencyAnalysis, batches: [(input: Tensor, labels: [Int]?)], threads: Int,
                outputKind: OutputKind? = nil) throws {
        self.graph = graph
        self.threads = threads
        self.outputKind = OutputKind.resolve(outputKind, graph: graph)
        self.analysis = analysis
        var ends: [Int: ValueID] = [:]
        var axes: [ValueID: Int] = [:]
        for t in try graph.channelTails() { ends[t.producer] = t.end; axes[t.end] = t.axis }
        tailEnd = ends
        tailAxis = axes
        plan = try ExecutionPlan(graph: graph, options: ExecutionOptions(threads: threads, observable: Set(ends.values)))
        self.batches = batches
        logits = graph.outputs[0]
        var baselines: [Baseline] = []
        for b in batches {
            let out = try plan.run(known: [graph.inputs[0].value: b.input], outputs: [graph.outputs[0]])[graph.outputs[0]]!
            baselines.append(Baseline(logits: out.storage, count: b.input.shape[0], labels: b.labels, kind: self.outputKind))
        }
        self.baselines = baselines
    }

    /// Baseline accuracy per class (with labels), over every batch.
    public var baselineClassAccuracy: [Int: Double]? { classAccuracy(baselines.map { $0.logits }) }

    /// The masked model's logits per batch: what the pruned model must reproduce.
    public func maskedLogits(removing removed: Set<Int>) throws -> [Tensor] {
        let interventions = masks(removed)
        return try batches.map { b in try plan.run(known: [graph.inputs[0].value: b.input], outputs: [logits], interventions: interventions)[logits]! }
    }

    /// The channels `removed` zeroes, by the tail end they are zeroed at.
    func removedChannels(_ removed: Set<Int>) -> [ValueID: [Int]] {
        var channels: [ValueID: [Int]] = [:]
        for g in removed {
            for m in analysis.groups[g].members { if let v = tailEnd[m.producer] { channels[v, default: []].append(m.channel) } }
        }
        return channels
    }

    public func masks(_ removed: Set<Int>) -> [ValueID: Intervention] {
        var interventions: [ValueID: Intervention] = [:]
        for (v, list) in removedChannels(removed) {
            let sorted = list.sorted()
            let axis = tailAxis[v] ?? 1
            interventions[v] = { tensor in Perturbation.apply(factor: 0, channels: sorted, axis: axis, to: &tensor) }
        }
        return interventions
    }

    /// Mean kl, mse, top1 (and acc, loss with labels) of the masked model against the original,
    /// and per-class accuracy after (with labels).
    public func measure(removing removed: Set<Int>) throws -> (means: [String: Double], classAccuracy: [Int: Double]?) {
        let recalibrated = try recalibrateInputs.map { try recalibratedOutputs(removing: removed, inputs: $0) }
        let interventions = recalibrated == nil ? masks(removed) : [:]
        let outputs = try recalibrated ?? batches.map { b in
            try plan.run(known: [graph.inputs[0].value: b.input], outputs: [logits], interventions: interventions)[logits]!
        }
        return compare(outputs)
    }

    /// The model with `interventions` applied to its values (tail ends, which the verifier's plan
    /// keeps observable), measured against the original: one forward pass per batch, no new plan.
    public func measure(interventions: [ValueID: Intervention]) throws -> (means: [String: Double], classAccuracy: [Int: Double]?) {
        compare(try batches.map { b in
            try plan.run(known: [graph.inputs[0].value: b.input], outputs: [logits], interventions: interventions)[logits]!
        })
    }

    /// Whether `value` can take an intervention in `measure(interventions:)`.
    public func observes(_ value: ValueID) -> Bool { tailAxis[value] != nil }

    /// The same measurement for another graph with the original's input and output (a quantized
    /// copy, `QuantizedGraph`): its outputs on every batch against the original's.
    public func measure(graph other: Graph) throws -> (means: [String: Double], classAccuracy: [Int: Double]?) {
        let otherPlan = try ExecutionPlan(graph: other, options: ExecutionOptions(threads: threads))
        return compare(try batches.map { try otherPlan.run($0.input)[0] })
    }

    /// Mean metrics of one output tensor per batch against the baselines; one evaluation.
    func compare(_ outputs: [Tensor]) -> (means: [String: Double], classAccuracy: [Int: Double]?) {
        evaluations += 1
        var sums: [String: Double] = [:], count = 0
        for (out, baseline) in zip(outputs, baselines) {
            for (name, values) in baseline.compare(out.storage).values { sums[name.rawValue, default: 0] += values.reduce(0, +) }
            count += baseline.count
        }
        return (sums.mapValues { $0 / Double(max(count, 1)) }, classAccuracy(outputs.map(\.storage)))
    }

    /// The verification inputs, for calibrating a quantized copy's activations.
    public var inputs: [Tensor] { batches.map(\.input) }

    func classAccuracy(_ outputs: [[Float]]) -> [Int: Double]? {
        var correct: [Int: (hit: Int, n: Int)] = [:]
        for (b, out) in zip(batches, outputs) {
            guard let labels = b.labels else { return nil }
            let classes = out.count / max(labels.count, 1)
            for (n, label) in labels.enumerated() {
                let row = out[n * classes ..< (n + 1) * classes]
                let best = row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }! - n * classes
                let entry = correct[label] ?? (0, 0)
                correct[label] = (entry.hit + (best == label ? 1 : 0), entry.n + 1)
            }
        }
        return correct.mapValues { Double($0.hit) / Double($0.n) }
    }
}
