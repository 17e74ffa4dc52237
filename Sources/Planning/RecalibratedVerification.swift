import Execution
import NetworkIR
import Training

/// `plan --recalibrate N`: candidates measured after BatchNormalization recalibration, the state
/// a pruned model is in once `prune --recalibrate` (or the first step of fine-tuning) re-estimates
/// its statistics. The removed channels are zeroed by a constant mask multiplied in at each tail
/// end (a copy of the graph, not an intervention, so the training-mode forward pass of
/// `Recalibration` sees them); every BatchNormalization downstream then gets the statistics of
/// the first N verification inputs, exactly as in the pruned model, whose downstream activations
/// are the masked model's. The damage is measured, as always, against the original's outputs.
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
        var g = try maskedGraph(removing: removed)
        var calibration: [Tensor] = [], taken = 0
        for b in batches where taken < count {
            let n = min(b.input.shape[0], count - taken)
            let per = b.input.count / max(b.input.shape[0], 1)
            calibration.append(n == b.input.shape[0] ? b.input : Tensor(shape: [n] + Array(b.input.shape.dropFirst()), storage: Array(b.input.storage[0..<(n * per)])))
            taken += n
        }
        do { try Recalibration.batchNormalization(&g, batches: calibration, threads: threads) } catch {
            throw PlanInputError("\(error)")
        }
        let plan = try ExecutionPlan(graph: g, options: ExecutionOptions(threads: threads))
        return try batches.map { try plan.run($0.input)[0] }
    }
}
