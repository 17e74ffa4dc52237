import Gradients
import NetworkIR

/// BatchNormalization's running statistics in training mode, updated as `BatchNorm2d` does:
/// running ← (1 − momentum) · running + momentum · batch, with the batch variance unbiased
/// (count / (count − 1)). PyTorch's momentum (default 0.1) is ONNX's 1 − momentum.
enum RunningStatistics {
    static func update(_ graph: inout Graph, slots: [RunningStatisticsSlot], batchStatistics: [Int: BatchStatistics], momentum: Float) {
        for slot in slots {
            guard let batch = batchStatistics[slot.node], var mean = graph.constants[slot.mean],
                  var variance = graph.constants[slot.variance] else { continue }
            let unbias = batch.count > 1 ? Float(batch.count) / Float(batch.count - 1) : 1
            for c in 0..<min(mean.count, batch.mean.count) {
                mean.storage[c] = (1 - momentum) * mean.storage[c] + momentum * batch.mean[c]
                variance.storage[c] = (1 - momentum) * variance.storage[c] + momentum * batch.variance[c] * unbias
            }
            graph.constants[slot.mean] = mean
            graph.constants[slot.variance] = variance
        }
    }
}
