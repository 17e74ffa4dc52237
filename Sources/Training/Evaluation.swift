import Execution
import Influence
import NetworkIR

/// How close the student is to what it should reproduce, on inputs it does not train on.
public struct Evaluation: Sendable, Equatable, Codable {
    public var inputs: Int
    /// Fraction of inputs whose top-1 class equals the teacher's (with a teacher).
    public var agreement: Double?
    /// Mean KL(teacher ‖ student) of the softmax outputs, nats (with a teacher).
    public var kl: Double?
    /// Top-1 accuracy and mean cross-entropy (with labels).
    public var accuracy: Double?
    public var crossEntropy: Double?
}

/// Held-out inputs with what the student is judged against: the teacher's logits, labels, or both.
public struct ValidationSet: Sendable {
    public var batches: [Tensor]
    public var labels: [[Int]]?
    public var teacherLogits: [Tensor]?

    public init(batches: [Tensor], labels: [[Int]]?, teacherLogits: [Tensor]?) {
        self.batches = batches
        self.labels = labels
        self.teacherLogits = teacherLogits
    }

    public var count: Int { batches.reduce(0) { $0 + ($1.shape.first ?? 0) } }

    /// Runs `graph` (inference, fused) on every batch and compares. `graph` and the teacher's
    /// outputs are logits (`LogitsGraph.logits` bypasses a final Softmax before training).
    public func evaluate(_ graph: Graph, threads: Int) throws(TrainingError) -> Evaluation {
        let plan: ExecutionPlan
        do { plan = try ExecutionPlan(graph: graph, options: ExecutionOptions(threads: threads)) } catch {
            throw TrainingError("validation: cannot build the model: \(error)")
        }
        var student: [Float] = [], teacher: [Float] = []
        for (i, batch) in batches.enumerated() {
            do { student += try plan.run(batch)[0].storage } catch { throw TrainingError("validation batch \(i): \(error)") }
            if let t = teacherLogits { teacher += t[i].storage }
        }
        let count = self.count
        let flatLabels = labels.map { $0.flatMap { $0 } }
        var result = Evaluation(inputs: count)
        if flatLabels != nil {
            let own = Baseline(logits: student, count: count, labels: flatLabels, kind: .logits)
            result.accuracy = own.accuracy
            result.crossEntropy = own.meanLoss
        }
        if teacherLogits != nil {
            guard teacher.count == student.count else {
                throw TrainingError("validation: the teacher gives \(teacher.count / max(count, 1)) outputs per input, the student \(student.count / max(count, 1))")
            }
            let means = Baseline(logits: teacher, count: count, labels: nil, kind: .logits).compare(student).means
            result.kl = means[.kl]
            result.agreement = means[.top1].map { 1 - $0 }
        }
        return result
    }
}

extension ValidationSet {
    /// The training inputs themselves, centre-cropped and unflipped, judged against their labels
    /// and the teacher: what `finetune` validates on when given no `--val`, so that `--keep best`
    /// still never hands back weights that fit the data worse than the starting ones.
    public init(training data: TrainingSet, batch: Int, teacher: TeacherLogits?) throws(TrainingError) {
        let batches = data.plainBatches(first: data.count, batch: batch)
        let chunks = Swift.stride(from: 0, to: data.count, by: max(batch, 1)).map { Array($0..<min($0 + max(batch, 1), data.count)) }
        var teacherLogits: [Tensor]? = nil
        if let teacher {
            do { teacherLogits = try batches.map { try teacher($0) } } catch { throw TrainingError("teacher: \(error)") }
        }
        self.init(batches: batches, labels: data.labels.map { all in chunks.map { $0.map { all[$0] } } }, teacherLogits: teacherLogits)
    }
}
