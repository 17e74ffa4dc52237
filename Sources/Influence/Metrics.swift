import Foundation

/// The label-free and labelled damage metrics of one perturbed output against the baseline,
/// per input. Outputs are (N, K), used for what the model's `OutputKind` says they are: logits
/// are turned into probabilities by a softmax over the K values of an input, probability and
/// log-probability outputs are taken as they are. Natural logarithms, float64 sums.
public enum MetricName: String, Sendable, CaseIterable {
    case kl, mse, top1, acc, loss
}

/// Per-input metric values for one measurement.
public struct PerInputMetrics: Sendable, Equatable {
    public var values: [MetricName: [Double]]

    /// Means over inputs.
    public var means: [MetricName: Double] {
        values.mapValues { $0.isEmpty ? 0 : $0.reduce(0, +) / Double($0.count) }
    }
}

/// Baseline quantities computed once: log-probabilities, arg-max, correctness and loss per input.
public struct Baseline: Sendable {
    /// The unperturbed outputs as the model gives them (logits, probabilities or
    /// log-probabilities, as `kind` says).
    public let logits: [Float]
    public let classes: Int
    public let count: Int
    /// What `logits` holds; the perturbed outputs compared against it are of the same kind.
    public let kind: OutputKind
    let logProbabilities: [Double]
    let argmax: [Int]
    let labels: [Int]?

    public init(logits: [Float], count: Int, labels: [Int]?, kind: OutputKind) {
        self.logits = logits
        self.count = count
        self.classes = logits.count / max(count, 1)
        self.labels = labels
        self.kind = kind
        var lp: [Double] = [], am: [Int] = []
        for n in 0..<count {
            let row = logits[n * classes ..< (n + 1) * classes]
            lp += kind.logProbabilities(row)
            am.append(Baseline.argmax(Array(row)))
        }
        self.logProbabilities = lp
        self.argmax = am
    }

    /// The first index of the largest value (ties → lowest index, as numpy's argmax).
    static func argmax(_ row: [Float]) -> Int {
        var best = 0
        for i in 1..<row.count where row[i] > row[best] { best = i }
        return best
    }

    public var accuracy: Double? {
        guard let labels else { return nil }
        return Double(zip(argmax, labels).filter { $0 == $1 }.count) / Double(max(count, 1))
    }

    public var meanLoss: Double? {
        guard let labels else { return nil }
        var total = 0.0
        for n in 0..<count { total -= logProbabilities[n * classes + labels[n]] }
        return total / Double(max(count, 1))
    }

    /// Metrics of `perturbed` outputs (N, K, of the baseline's kind) against the baseline:
    /// KL(p‖q) = Σ p·(log p − log q) with both logarithms from `OutputKind.logProbabilities`
    /// (clamped at `OutputKind.probabilityFloor` for probability outputs), mse on the output
    /// values as given, top-1 on their arg-max, loss = −log q[label] + log p[label].
    public func compare(_ perturbed: [Float]) -> PerInputMetrics {
        var kl: [Double] = [], mse: [Double] = [], top1: [Double] = [], acc: [Double] = [], loss: [Double] = []
        for n in 0..<count {
            let row = Array(perturbed[n * classes ..< (n + 1) * classes])
            let lq = kind.logProbabilities(row)
            var d = 0.0, squares = 0.0
            for k in 0..<classes {
                let lp = logProbabilities[n * classes + k]
                d += Foundation.exp(lp) * (lp - lq[k])
                let e = Double(logits[n * classes + k]) - Double(row[k])
                squares += e * e
            }
            kl.append(max(d, 0))
            mse.append(squares / Double(classes))
            let a = Baseline.argmax(row)
            top1.append(a == argmax[n] ? 0 : 1)
            if let labels {
                let label = labels[n]
                acc.append((argmax[n] == label ? 1 : 0) - (a == label ? 1 : 0))
                loss.append(-lq[label] + logProbabilities[n * classes + label])
            }
        }
        var values: [MetricName: [Double]] = [.kl: kl, .mse: mse, .top1: top1]
        if labels != nil { values[.acc] = acc; values[.loss] = loss }
        return PerInputMetrics(values: values)
    }
}
