import Gradients
import NetworkIR

/// BatchNormalization recalibration (adaptive BN, Li et al., EagleEye, ECCV 2020): after a cut,
/// the running statistics describe the unpruned network's activations, not the pruned one's;
/// re-estimating them on a few batches makes a candidate's measured damage track what it will be
/// after fine-tuning far better than the raw pruned model's.
///
/// The rule is PyTorch's `model.train()` with `momentum=None` over the batches: each batch runs
/// forward with every BatchNormalization normalising by that batch's own statistics (so a later
/// layer sees what the recalibrated earlier layers give it), and each running statistic becomes
/// the plain average over batches of the batch mean and of the unbiased batch variance
/// (variance · n/(n − 1), n = N·H·W). Nothing else changes. Models whose BatchNormalization was
/// folded into the convolutions have no statistics to re-estimate: `StatisticsMatching` serves
/// them (docs/recalibration.md).
public enum Recalibration {
    public struct Summary: Sendable, Equatable {
        /// BatchNormalization nodes whose statistics were replaced.
        public var layers: Int
        public var inputs: Int
        public var batches: Int

        public init(layers: Int, inputs: Int, batches: Int) {
            self.layers = layers
            self.inputs = inputs
            self.batches = batches
        }
    }

    /// Replaces the running statistics of every BatchNormalization in `graph` by their estimate
    /// over `batches`.
    @discardableResult
    public static func batchNormalization(_ graph: inout Graph, batches: [Tensor], threads: Int) throws(TrainingError) -> Summary {
        let slots = TrainableParameters(graph: graph).runningStatistics
        guard !slots.isEmpty else {
            throw TrainingError("--recalibrate: the model has no BatchNormalization with stored running statistics to re-estimate (exports usually fold it into the convolutions); plan and prune recalibrate such models with --recalibration match")
        }
        guard !batches.isEmpty else { throw TrainingError("--recalibrate: expected at least one input, got none") }
        let engine: GraphGradients
        do { engine = try GraphGradients(graph: graph, threads: threads, batchNormMode: .training) } catch {
            throw TrainingError("--recalibrate: \(error)")
        }
        var means: [Int: [Double]] = [:], variances: [Int: [Double]] = [:]
        for (i, batch) in batches.enumerated() {
            let record: ForwardRecord
            do { record = try engine.forward(batch) } catch { throw TrainingError("--recalibrate: batch \(i + 1): \(error)") }
            for slot in slots {
                guard let s = record.batchStatistics[slot.node] else {
                    throw TrainingError("--recalibrate: BatchNormalization '\(graph.nodes[slot.node].name)' gave no batch statistics")
                }
                let unbias = s.count > 1 ? Double(s.count) / Double(s.count - 1) : 1
                means[slot.node, default: [Double](repeating: 0, count: s.mean.count)].addInPlace(s.mean.map(Double.init))
                variances[slot.node, default: [Double](repeating: 0, count: s.variance.count)].addInPlace(s.variance.map { Double($0) * unbias })
            }
        }
        let n = Double(batches.count)
        for slot in slots {
            guard let mean = means[slot.node], let variance = variances[slot.node],
                  mean.count == graph.constants[slot.mean]?.count, variance.count == graph.constants[slot.variance]?.count else {
                throw TrainingError("--recalibrate: BatchNormalization '\(graph.nodes[slot.node].name)': statistics do not match its channels")
            }
            graph.constants[slot.mean]!.storage = mean.map { Float($0 / n) }
            graph.constants[slot.variance]!.storage = variance.map { Float($0 / n) }
        }
        return Summary(layers: slots.count, inputs: batches.reduce(0) { $0 + ($1.shape.first ?? 0) }, batches: batches.count)
    }

    /// The running statistics by ONNX name, for writing back into the model file.
    public static func statistics(of graph: Graph) -> [String: [Float]] {
        var values: [String: [Float]] = [:]
        for slot in TrainableParameters(graph: graph).runningStatistics {
            values[graph.values[slot.mean].name] = graph.constants[slot.mean]?.storage
            values[graph.values[slot.variance].name] = graph.constants[slot.variance]?.storage
        }
        return values
    }
}

extension Array where Element == Double {
    mutating func addInPlace(_ other: [Double]) {
        for i in indices where i < other.count { self[i] += other[i] }
    }
}
