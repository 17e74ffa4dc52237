import Foundation
import NetworkIR

/// A scalar loss on the graph's first output (logits, shape (N, classes)), averaged over the batch
/// as PyTorch's defaults do (`cross_entropy(reduction='mean')`, `kl_div(reduction='batchmean')`).
public enum Loss: Sendable {
    /// Softmax cross-entropy with one integer class label per sample.
    case softmaxCrossEntropy(labels: [Int])
    /// KL(softmax(teacher/T) ‖ softmax(student/T)) · T², the distillation loss of Hinton et al.:
    /// the T² keeps the gradient's scale independent of the temperature.
    case distillation(teacherLogits: Tensor, temperature: Float)

    /// The loss value and its gradient with respect to `logits`. Sums run in Double so the value
    /// is comparable with PyTorch's to float32 precision.
    public func evaluate(logits: Tensor) throws(GradientError) -> (value: Double, gradient: Tensor) {
        guard logits.rank == 2 else { throw GradientError("loss: expected logits of shape (N, classes), got \(logits.shape)") }
        let (n, classes) = (logits.shape[0], logits.shape[1])
        var gradient = Tensor(zeros: logits.shape)
        var total = 0.0
        switch self {
        case .softmaxCrossEntropy(let labels):
            guard labels.count == n else { throw GradientError("loss: expected \(n) labels (one per sample), got \(labels.count)") }
            for i in 0..<n {
                let label = labels[i]
                guard label >= 0 && label < classes else {
                    throw GradientError("loss: label \(label) of sample \(i) is outside 0..<\(classes)")
                }
                let p = Loss.softmax(logits.storage[(i * classes)..<((i + 1) * classes)], temperature: 1)
                total -= Foundation.log(max(p.probabilities[label], .leastNormalMagnitude))
                for c in 0..<classes {
                    gradient.storage[i * classes + c] = Float((p.probabilities[c] - (c == label ? 1 : 0)) / Double(n))
                }
            }
        case .distillation(let teacher, let temperature):
            guard teacher.shape == logits.shape else {
                throw GradientError("loss: teacher logits \(teacher.shape) do not match the student's \(logits.shape)")
            }
            guard temperature > 0 else { throw GradientError("loss: expected a positive temperature, got \(temperature)") }
            let t = Double(temperature)
            for i in 0..<n {
                let range = (i * classes)..<((i + 1) * classes)
                let s = Loss.softmax(logits.storage[range], temperature: t)
                let q = Loss.softmax(teacher.storage[range], temperature: t)
                for c in 0..<classes where q.probabilities[c] > 0 {
                    total += q.probabilities[c] * (q.logProbabilities[c] - s.logProbabilities[c])
                }
                for c in 0..<classes {
                    gradient.storage[i * classes + c] = Float(t * (s.probabilities[c] - q.probabilities[c]) / Double(n))
                }
            }
            total *= t * t
        }
        return (total / Double(n), gradient)
    }

    static func softmax(_ row: ArraySlice<Float>, temperature: Double) -> (probabilities: [Double], logProbabilities: [Double]) {
        let scaled = row.map { Double($0) / temperature }
        let peak = scaled.max() ?? 0
        let logSum = Foundation.log(scaled.reduce(0) { $0 + Foundation.exp($1 - peak) }) + peak
        let logs = scaled.map { $0 - logSum }
        return (logs.map { Foundation.exp($0) }, logs)
    }
}
