import Execution
import NetworkIR
import Pruning
import Training

/// `plan --recalibrate N`: candidates measured after recalibration, the state a pruned model is in
/// once `prune --recalibrate` (or, for BatchNormalization, the first step of fine-tuning) has
/// recalibrated it: BatchNormalization statistics re-estimated (`estimate`) or each layer's output
/// statistics matched to the unpruned model's (`match`, StatisticsMatching). The removed channels
/// are zeroed by a constant mask multiplied in at each tail end (a copy of the graph, not an
/// intervention, so the training-mode forward pass of `Recalibration` sees them); every
/// BatchNormalization downstream then gets the statistics of the first N verification inputs (or
/// every layer downstream its matching correction), exactly as in the pruned model, whose
/// downstream activations are the masked model's. The damage is measured, as always, against the
/// original's outputs.
extension PlanVerifier {
    /// The graph with the channels of `removed` zeroed by masks after their tail ends.
    func maskedGraph(removing removed: Set<Int>) throws -> Graph {
        var g = graph
        let shapes = try g.inferShapes(batch: 1)
        for (v, list) in removedChannels(removed).sorted(by: { $0.key < $1.key }) {
            guard let shape = shapes[v] else {
                throw PlanInputError("--recalibrate: the tail end '\(g.values[v].name)' has no known shape")
            }
            let axis = tailAxis[v] ?? 1
            var maskShape = [Int](repeating: 1, count: shape.count)
            maskShape[axis] = shape[axis]
            var mask = [Float](repeating: 1, count: shape[axis])
            for c in list { mask[c] = 0 }
            let maskValue = g.values.count
            g.values.append(Value(name: "weakspot.mask:" + g.values[v].name))
            g.constants[maskValue] = Tensor(shape: maskShape, storage: mask)
            guard g.insertAfter(v, op: .mul, name: "weakspot.mask:" + g.values[v].name, suffix: ":masked", extraInputs: [maskValue]) != nil else {
                throw PlanInputError("--recalibrate: the tail end '\(g.values[v].name)' has no producer")
            }
        }
        return g
    }

    /// The recalibrated masked model's outputs on every verification batch.
    func recalibratedOutputs(removing removed: Set<Int>, inputs count: Int) throws -> [Tensor] {
        let g = try recalibratedGraph(removing: removed, inputs: count).graph
        let plan = try ExecutionPlan(graph: g, options: ExecutionOptions(threads: threads))
        return try batches.map { try plan.run($0.input)[0] }
    }

    /// The masked model recalibrated by `recalibrationRule` on the first `count` verification
    /// inputs; with `match`, also the corrections (which `prune --recalibrate` writes into the
    /// original's constants before cutting).
    func recalibratedGraph(removing removed: Set<Int>, inputs count: Int, rule: RecalibrationRule? = nil) throws -> (graph: Graph, matching: StatisticsMatching.Summary?) {
        var g = try maskedGraph(removing: removed)
        var calibration: [Tensor] = [], taken = 0
        for b in batches where taken < count {
            let n = min(b.input.shape[0], count - taken)
            let per = b.input.count / max(b.input.shape[0], 1)
            calibration.append(n == b.input.shape[0] ? b.input : Tensor(shape: [n] + Array(b.input.shape.dropFirst()), storage: Array(b.input.storage[0..<(n * per)])))
            taken += n
        }
        switch rule ?? recalibrationRule {
        case .estimate:
            do { try Recalibration.batchNormalization(&g, batches: calibration, threads: threads) } catch {
                throw PlanInputError("\(error)")
            }
            return (g, nil)
        case .match:
            // All N inputs as one batch: each layer's statistics are over all of them before the
            // layers below it are measured.
            let sample = Array(calibration.first?.shape.dropFirst() ?? [])
            let all = Tensor(shape: [taken] + sample, storage: calibration.flatMap(\.storage))
            do {
                let summary = try StatisticsMatching.match(original: graph, masked: g, changed: Set(removedChannels(removed).keys),
                                                           inputs: all, threads: threads)
                try StatisticsMatching.apply(summary.corrected, to: &g)
                return (g, summary)
            } catch { throw PlanInputError("\(error)") }
        }
    }

    /// `prune --recalibrate N --recalibration match`: the original model's constants after the
    /// corrections that match the statistics of the model without `removed` (by constant name),
    /// and the layers that had no place for one.
    public func matchedConstants(removing removed: Set<Int>, inputs count: Int) throws -> (constants: [String: [Float]], summary: StatisticsMatching.Summary) {
        guard let summary = try recalibratedGraph(removing: removed, inputs: count, rule: .match).matching else {
            throw PlanInputError("--recalibrate: statistics matching gave no corrections")
        }
        var corrected = graph
        var constants: [String: [Float]] = [:]
        do {
            for name in try StatisticsMatching.apply(summary.corrected, to: &corrected) {
                guard let v = corrected.value(named: name), let t = corrected.constants[v] else { continue }
                constants[name] = t.storage
            }
        } catch { throw PlanInputError("\(error)") }
        return (constants, summary)
    }
}
