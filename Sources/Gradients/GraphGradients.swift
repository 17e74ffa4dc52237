import Execution
import Foundation
import NetworkIR

/// How BatchNormalization nodes behave in the forward and backward pass.
public enum BatchNormMode: Sendable {
    /// Inference form with the running statistics, as `BatchNorm2d.eval()`: the statistics are
    /// constants.
    case frozen
    /// Training form, as `BatchNorm2d.train()`: each channel is normalised with the batch's mean
    /// and biased variance, and the gradient flows through both.
    case training
}

/// One BatchNormalization node's batch statistics in training mode (per channel).
public struct BatchStatistics: Sendable {
    public var mean: [Float]
    /// Biased (divided by the count), as used for normalising.
    public var variance: [Float]
    /// Elements per channel (N·H·W): the unbiased variance for a running-statistics update is
    /// variance · count / (count − 1).
    public var count: Int
}

/// Every activation of one forward pass, kept for the backward pass.
public struct ForwardRecord: Sendable {
    /// Activation values by id (graph inputs and node outputs; constants live in the graph).
    public var values: [ValueID: Tensor]
    public var batch: Int
    /// Training mode only: each BatchNormalization node's batch statistics, by node index.
    public var batchStatistics: [Int: BatchStatistics] = [:]

    /// The graph's first output (the logits).
    public func output(of graph: Graph) -> Tensor? { graph.outputs.first.flatMap { values[$0] } }
}

/// Gradients of a scalar loss.
public struct GraphGradientResult: Sendable {
    public var loss: Double
    /// With respect to the graph's first input.
    public var input: Tensor?
    /// With respect to every constant that is a differentiable operand (weights, biases, BN γ and
    /// β, Gemm/MatMul/Mul constants); BN running mean and variance are statistics, not parameters.
    public var constants: [ValueID: Tensor]
    /// With respect to the activations asked for.
    public var activations: [ValueID: Tensor]
    public var record: ForwardRecord
}

/// Reverse-mode differentiation of a graph: one forward pass through an unfused `ExecutionPlan`
/// (so every activation exists as a tensor, computed by the same kernels as inference), then a
/// walk back over the nodes that applies each operator's backward rule and sums the gradients
/// of values read by several nodes.
public final class GraphGradients: Sendable {
    public let graph: Graph
    public let threads: Int
    public let batchNormMode: BatchNormMode
    let plan: ExecutionPlan
    /// Activation values (graph inputs and node outputs).
    let activationIDs: Set<ValueID>

    public init(graph: Graph, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                batchNormMode: BatchNormMode = .frozen) throws(GradientError) {
        self.graph = graph
        self.threads = max(1, threads)
        self.batchNormMode = batchNormMode
        var ids = Set(graph.inputs.map(\.value))
        for node in graph.nodes { ids.formUnion(node.outputs) }
        activationIDs = ids
        for node in graph.nodes { try BackwardRules.checkSupported(node, graph: graph) }
        do {
            plan = try ExecutionPlan(graph: graph, options: ExecutionOptions(threads: self.threads, fuse: false, observable: ids,
                                                                     winograd: .off))
        } catch {
            throw GradientError("cannot build the forward plan: \(error)")
        }
    }

    /// Runs the graph on `input` and keeps every activation.
    public func forward(_ input: Tensor) throws(GradientError) -> ForwardRecord {
        guard let first = graph.inputs.first else { throw GradientError("the graph has no input") }
        guard input.rank == first.sampleShape.count + 1, Array(input.shape.dropFirst()) == first.sampleShape else {
            throw GradientError("input shape \(input.shape) does not match the model's (N, \(first.sampleShape.map(String.init).joined(separator: ", ")))")
        }
        if batchNormMode == .frozen {
            do {
                let values = try plan.run(known: [first.value: input], outputs: graph.outputs, keep: activationIDs)
                return ForwardRecord(values: values, batch: input.shape[0])
            } catch {
                throw GradientError("forward pass: \(error)")
            }
        }
        // Training mode: node by node, BatchNormalization with batch statistics, every other node
        // by its step of the (unfused) plan.
        var record = ForwardRecord(values: [first.value: input], batch: input.shape[0])
        for (i, node) in graph.nodes.enumerated() {
            let output = node.outputs[0]
            if case .batchNormalization(let epsilon) = node.op {
                let context = BackwardContext(graph: graph, values: record.values, threads: threads, batch: record.batch)
                let x = try context.value(node.inputs[0])
                let gamma = try context.value(node.inputs[1]), beta = try context.value(node.inputs[2])
                let (y, statistics) = NormalizationBackward.trainingForward(input: x, gamma: gamma.storage, beta: beta.storage, epsilon: epsilon, threads: threads)
                record.values[output] = y
                record.batchStatistics[i] = statistics
                continue
            }
            var known: [ValueID: Tensor] = [:]
            for v in node.inputs where graph.constants[v] == nil { known[v] = record.values[v] }
            do {
                let result = try plan.run(known: known, outputs: [output], batch: record.batch, threads: threads)
                record.values[output] = result[output]
            } catch {
                throw GradientError("forward pass: \(error)", node: "\(node.name) (\(node.op.onnxName))")
            }
        }
        return record
    }

    /// Forward pass, loss on the first output, backward pass.
    public func gradients(input: Tensor, loss: Loss, activations: Set<ValueID> = []) throws(GradientError) -> GraphGradientResult {
        let record = try forward(input)
        guard let logits = record.output(of: graph) else { throw GradientError("the graph has no output") }
        let (value, seed) = try loss.evaluate(logits: logits)
        var result = try backward(record, outputGradient: seed, activations: activations)
        result.loss = value
        return result
    }

    /// The backward pass from a given gradient of the first output (the vector-Jacobian product).
    /// `inputGradient: false` skips the gradient of the graph's input (training needs only the
    /// parameters'; for a first convolution that is a whole col2im pass saved); `input` is nil then.
    public func backward(_ record: ForwardRecord, outputGradient: Tensor, activations: Set<ValueID> = [],
                         inputGradient: Bool = true) throws(GradientError) -> GraphGradientResult {
        guard let out = graph.outputs.first, let y = record.values[out] else { throw GradientError("the graph has no output") }
        guard y.shape == outputGradient.shape else {
            throw GradientError("output gradient \(outputGradient.shape) does not match the output \(y.shape)")
        }
        var grads: [ValueID: Tensor] = [out: outputGradient]
        var context = BackwardContext(graph: graph, values: record.values, threads: threads, batch: record.batch,
                                      batchStatistics: batchNormMode == .training ? record.batchStatistics : nil)
        if !inputGradient, let input = graph.inputs.first { context.skipped.insert(input.value) }
        for (index, node) in graph.nodes.enumerated().reversed() {
            guard let g = grads[node.outputs[0]] else { continue }
            if !activations.contains(node.outputs[0]) && !graph.outputs.contains(node.outputs[0]) { grads[node.outputs[0]] = nil }
            let inputGrads: [Tensor?]
            do {
                inputGrads = try BackwardRules.backward(node, index: index, outputGradient: g, context: context)
            } catch {
                var e = error
                if e.node == nil { e.node = "\(node.name) (\(node.op.onnxName))" }
                throw e
            }
            for (v, dg) in zip(node.inputs, inputGrads) {
                guard let dg else { continue }
                if let existing = grads[v] {
                    grads[v] = ElementwiseBackward.sum(existing, dg, threads: threads)
                } else {
                    grads[v] = dg
                }
            }
        }
        let inputID = graph.inputs.first?.value
        var constants: [ValueID: Tensor] = [:]
        for (id, t) in grads where graph.constants[id] != nil { constants[id] = t }
        var kept: [ValueID: Tensor] = [:]
        for id in activations { if let t = grads[id] { kept[id] = t } }
        return GraphGradientResult(loss: 0, input: inputID.flatMap { grads[$0] }, constants: constants,
                                   activations: kept, record: record)
    }
}

/// What a backward rule may read: the graph, every forward value, the thread budget.
struct BackwardContext {
    let graph: Graph
    let values: [ValueID: Tensor]
    let threads: Int
    let batch: Int
    /// Training mode: the batch statistics by node index; nil in frozen mode.
    var batchStatistics: [Int: BatchStatistics]? = nil
    /// Values whose gradient nobody wants (the graph input when training).
    var skipped: Set<ValueID> = []

    func value(_ id: ValueID) throws(GradientError) -> Tensor {
        if let t = values[id] ?? graph.constants[id] { return t }
        throw GradientError("value '\(graph.values[id].name)' was not kept by the forward pass")
    }
}
