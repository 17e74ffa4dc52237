import Dispatch
import Execution
import Foundation
import Gradients
import NetworkIR

/// Everything that decides the sequence of updates; part of a checkpoint's fingerprint.
public struct FineTuneSettings: Sendable, Equatable, Codable {
    public var epochs: Int
    public var batchSize: Int
    public var optimizer: OptimizerSettings
    public var schedule: LearningRateSchedule = .constant
    public var seed: UInt64 = 0
    public var shuffle = true
    public var augment = AugmentSettings(randomCrop: true, flip: true)
    /// true: BatchNormalization normalises with batch statistics and updates its running
    /// statistics (`model.train()`); false: frozen running statistics (`model.eval()`).
    public var trainBatchNorm = true
    /// PyTorch's convention (weight of the new batch statistic).
    public var batchNormMomentum: Float = 0.1
    public var temperature: Float = 1
    /// With labels and a teacher: loss = alpha · distillation + (1 − alpha) · cross-entropy.
    public var alpha: Float = 0.5
    public var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    /// `--early-stop K`: stop after K validated epochs in a row that do not beat the best.
    public var earlyStop: Int? = nil

    public init(epochs: Int, batchSize: Int, optimizer: OptimizerSettings) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.optimizer = optimizer
    }

    /// What must match for a checkpoint to continue this run. The thread count is left out: a run
    /// resumed on another machine continues correctly, though sums may then round differently.
    public var fingerprintText: String {
        var copy = self
        copy.threads = 0
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys  // key order must not depend on the process
        return (try? String(decoding: encoder.encode(copy), as: UTF8.self)) ?? "\(copy)"
    }
}

/// The teacher's logits for a batch (the original model, run by the inference engine).
public typealias TeacherLogits = @Sendable (Tensor) throws -> Tensor

/// The loop of `weakspot finetune`: one step = a batch drawn from the training set (seeded order
/// and augmentation), forward and backward through the student with the gradient engine, loss
/// against labels and/or the teacher, an optimizer update of every trainable parameter, and the
/// BatchNormalization running statistics. The student's parameters live in `graph.constants`,
/// so the current model is always `graph`.
public final class FineTuner {
    public internal(set) var graph: Graph
    public let parameters: TrainableParameters
    public let settings: FineTuneSettings
    public let data: TrainingSet
    public let teacher: TeacherLogits?
    let optimizer: Optimizer
    public private(set) var optimizerState: OptimizerState
    public internal(set) var progress = TrainingProgress()
    var epochStarted: DispatchTime = .now()
    /// The current epoch's visiting order, drawn once per epoch rather than once per step.
    var epochOrder: (epoch: Int, order: [Int])?
    /// The weights of `progress.best`, by value (ModelSelection.swift).
    var bestValues: [ValueID: [Float]] = [:]

    public init(graph: Graph, settings: FineTuneSettings, data: TrainingSet, teacher: TeacherLogits?) throws(TrainingError) {
        guard settings.epochs > 0 else { throw TrainingError("--epochs: expected a positive number, got \(settings.epochs)") }
        guard settings.batchSize > 0 else { throw TrainingError("--batch: expected a positive number, got \(settings.batchSize)") }
        guard settings.optimizer.learningRate > 0, settings.optimizer.learningRate.isFinite else {
            throw TrainingError("--lr: expected a positive learning rate, got \(settings.optimizer.learningRate)")
        }
        guard settings.optimizer.weightDecay >= 0 else { throw TrainingError("--weight-decay: expected 0 or more, got \(settings.optimizer.weightDecay)") }
        guard data.labels != nil || teacher != nil else {
            throw TrainingError("nothing to learn from: give labels (--labels, or class folders) or a teacher (--teacher ORIGINAL.onnx)")
        }
        if settings.augment.mixup {
            guard teacher != nil, data.labels == nil else {
                throw TrainingError("--augment mixup: only for distillation (--teacher, without labels): a mixed input would need mixed labels")
            }
            guard data.count > 1 else { throw TrainingError("--augment mixup: expected at least 2 training inputs, got \(data.count)") }
        }
        guard Array(graph.inputs.first?.sampleShape ?? []) == data.sampleShape else {
            throw TrainingError("training inputs are shaped \(data.sampleShape), the model expects \(graph.inputs.first?.sampleShape ?? [])")
        }
        self.graph = graph
        self.parameters = TrainableParameters(graph: graph)
        guard !parameters.parameters.isEmpty else { throw TrainingError("the model has no trainable constants (Conv, Gemm, MatMul, BatchNormalization)") }
        self.settings = settings
        self.data = data
        self.teacher = teacher
        self.optimizer = Optimizer(settings: settings.optimizer)
        self.optimizerState = OptimizerState(sizes: parameters.parameters.map { graph.constants[$0.value]!.count }, kind: settings.optimizer.kind)
        // Refuse what the gradient engine cannot differentiate now, not after the first batch.
        _ = try engine()
    }

    public var stepsPerEpoch: Int { (data.count + settings.batchSize - 1) / settings.batchSize }
    public var totalSteps: Int { settings.epochs * stepsPerEpoch }
    public var isFinished: Bool { progress.epochsDone >= settings.epochs || progress.stoppedEarly }
    public var learningRate: Float {
        settings.schedule.rate(base: settings.optimizer.learningRate, step: progress.globalStep, totalSteps: totalSteps)
    }

    func engine() throws(TrainingError) -> GraphGradients {
        do { return try GraphGradients(graph: graph, threads: settings.threads, batchNormMode: settings.trainBatchNorm ? .training : .frozen) } catch {
            throw TrainingError("gradients: \(error)")
        }
    }

    /// One optimizer update. Returns the batch's loss; when it ends an epoch, the epoch's record
    /// is appended to `progress.history` (with `validation` evaluated by the caller afterwards).
    @discardableResult
    public func step() throws(TrainingError) -> (loss: Double, endedEpoch: Bool) {
        guard !isFinished else { throw TrainingError("the run has finished all \(settings.epochs) epochs") }
        if progress.stepInEpoch == 0 { epochStarted = .now() }
        let epoch = progress.epochsDone
        if epochOrder?.epoch != epoch { epochOrder = (epoch, data.order(epoch: epoch, seed: settings.seed, shuffle: settings.shuffle)) }
        let order = epochOrder!.order
        let start = progress.stepInEpoch * settings.batchSize
        let indices = Array(order[start..<min(start + settings.batchSize, data.count)])
        let input = data.batch(indices, epoch: epoch, seed: settings.seed, augment: settings.augment)

        let engine = try engine()
        let record: ForwardRecord
        do { record = try engine.forward(input) } catch { throw TrainingError("forward: \(error)") }
        guard let logits = record.output(of: graph) else { throw TrainingError("the model produced no output") }
        let (loss, seed) = try lossAndGradient(logits: logits, input: input, labels: data.labels.map { all in indices.map { all[$0] } })
        guard loss.isFinite else {
            throw TrainingError("the loss became \(loss) at epoch \(epoch + 1), step \(progress.stepInEpoch + 1): training diverged; lower --lr (now \(learningRate))")
        }
        let result: GraphGradientResult
        do { result = try engine.backward(record, outputGradient: seed, inputGradient: false) } catch { throw TrainingError("backward: \(error)") }

        let rate = learningRate
        optimizer.beginStep(&optimizerState)
        for (i, parameter) in parameters.parameters.enumerated() {
            guard let gradient = result.constants[parameter.value] else {
                throw TrainingError("no gradient reached '\(parameter.name)' (\(parameter.node)); the gradient engine does not differentiate this use")
            }
            var tensor = graph.constants.removeValue(forKey: parameter.value)!
            optimizer.apply(i, parameter: &tensor.storage, gradient: gradient.storage, state: &optimizerState, learningRate: rate,
                            threads: settings.threads)
            graph.constants[parameter.value] = tensor
        }
        if settings.trainBatchNorm {
            RunningStatistics.update(&graph, slots: parameters.runningStatistics, batchStatistics: record.batchStatistics,
                                     momentum: settings.batchNormMomentum)
        }

        progress.globalStep += 1
        progress.stepInEpoch += 1
        progress.lossSum += loss * Double(indices.count)
        progress.lossCount += indices.count
        let ended = progress.stepInEpoch == stepsPerEpoch
        if ended {
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - epochStarted.uptimeNanoseconds) / 1e9
            progress.history.append(EpochRecord(epoch: epoch + 1, meanLoss: progress.lossSum / Double(max(progress.lossCount, 1)),
                                                learningRate: rate, seconds: seconds, validation: nil))
            progress.epochsDone += 1
            progress.stepInEpoch = 0
            progress.lossSum = 0
            progress.lossCount = 0
        }
        return (loss, ended)
    }

    func lossAndGradient(logits: Tensor, input: Tensor, labels: [Int]?) throws(TrainingError) -> (Double, Tensor) {
        var teacherLogits: Tensor? = nil
        if let teacher {
            do { teacherLogits = try teacher(input) } catch { throw TrainingError("teacher: \(error)") }
        }
        do {
            switch (labels, teacherLogits) {
            case (let labels?, nil):
                return try Loss.softmaxCrossEntropy(labels: labels).evaluate(logits: logits)
            case (nil, let t?):
                return try Loss.distillation(teacherLogits: t, temperature: settings.temperature).evaluate(logits: logits)
            case (let labels?, let t?):
                let (ce, gce) = try Loss.softmaxCrossEntropy(labels: labels).evaluate(logits: logits)
                let (kd, gkd) = try Loss.distillation(teacherLogits: t, temperature: settings.temperature).evaluate(logits: logits)
                let a = settings.alpha
                var g = gkd
                for i in g.storage.indices { g.storage[i] = a * gkd.storage[i] + (1 - a) * gce.storage[i] }
                return (Double(a) * kd + Double(1 - a) * ce, g)
            case (nil, nil):
                throw TrainingError("nothing to learn from: no labels and no teacher")
            }
        } catch let error as TrainingError {
            throw error
        } catch {
            throw TrainingError("loss: \(error)")
        }
    }

    // MARK: checkpoints

    /// The run's state as a checkpoint: every trainable parameter, the optimizer's moments and
    /// the running statistics, by name.
    public func checkpoint(fingerprint: String) -> TrainingCheckpoint {
        var tensors: [(name: String, values: [Float])] = []
        for (i, p) in parameters.parameters.enumerated() {
            tensors.append(("param:\(p.name)", graph.constants[p.value]!.storage))
            tensors.append(("first:\(p.name)", optimizerState.first[i]))
            if settings.optimizer.kind != .sgd { tensors.append(("second:\(p.name)", optimizerState.second[i])) }
        }
        for slot in parameters.runningStatistics {
            tensors.append(("mean:\(graph.values[slot.mean].name)", graph.constants[slot.mean]!.storage))
            tensors.append(("var:\(graph.values[slot.variance].name)", graph.constants[slot.variance]!.storage))
        }
        if progress.best != nil {
            for (name, value) in selectedConstants { tensors.append(("best:\(name)", bestValues[value] ?? [])) }
        }
        return TrainingCheckpoint(fingerprint: fingerprint, progress: progress, optimizerStep: optimizerState.step, tensors: tensors)
    }

    /// Continues from `checkpoint`; it must come from a run with the same fingerprint and model.
    public func restore(_ checkpoint: TrainingCheckpoint, fingerprint: String, path: String) throws(TrainingError) {
        guard checkpoint.fingerprint == fingerprint else {
            throw TrainingError("\(path): the checkpoint belongs to another run (model, data or options differ); remove it or drop --resume")
        }
        var expected = self.checkpoint(fingerprint: fingerprint).tensors.filter { !$0.name.hasPrefix("best:") }
        if checkpoint.progress.best != nil {
            expected += selectedConstants.map { (name: "best:\($0.name)", values: graph.constants[$0.value]!.storage) }
        }
        guard checkpoint.tensors.map(\.name) == expected.map(\.name), checkpoint.tensors.map(\.values.count) == expected.map(\.values.count) else {
            throw TrainingError("\(path): the checkpoint's tensors do not match this model's trainable parameters")
        }
        var byName: [String: [Float]] = [:]
        for t in checkpoint.tensors { byName[t.name] = t.values }
        for (i, p) in parameters.parameters.enumerated() {
            graph.constants[p.value]!.storage = byName["param:\(p.name)"]!
            optimizerState.first[i] = byName["first:\(p.name)"]!
            if settings.optimizer.kind != .sgd { optimizerState.second[i] = byName["second:\(p.name)"]! }
        }
        for slot in parameters.runningStatistics {
            graph.constants[slot.mean]!.storage = byName["mean:\(graph.values[slot.mean].name)"]!
            graph.constants[slot.variance]!.storage = byName["var:\(graph.values[slot.variance].name)"]!
        }
        bestValues = [:]
        if checkpoint.progress.best != nil {
            for (name, value) in selectedConstants { bestValues[value] = byName["best:\(name)"]! }
        }
        optimizerState.step = checkpoint.optimizerStep
        progress = checkpoint.progress
    }
}
