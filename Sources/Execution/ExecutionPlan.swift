import Foundation
import NetworkIR
import Linalg

/// How a plan is built.
public struct ExecutionOptions: Sendable {
    /// Worker threads for every kernel (1...).
    public var threads: Int
    /// Fuse Conv→BatchNormalization→Add→Relu chains and similar when the intermediate values are
    /// not observable.
    public var fuse: Bool
    /// Use the slow reference kernels everywhere (for checking the fast ones). Also forced by the
    /// environment variable `WEAKSPOT_EXECUTOR=reference`.
    public var useReferenceKernels: Bool
    /// Values that must exist as tensors during a run (fusion never hides them): the places where
    /// a caller reads or replaces activations.
    public var observable: Set<ValueID>
    /// Let `run(_:)` give each thread whole images (the whole graph per image) when the batch has
    /// at least two images per thread and the graph is batch-separable (ImageParallel.swift).
    /// Same bits either way.
    public var imageParallel: Bool
    /// Which 3×3 stride-1 convolutions run as Winograd F(4×4, 3×3) (docs/kernels.md): about 2.4×
    /// faster, with rounding errors ~10× the direct paths' (still 1.8e-6 of Σ|v·w|).
    public var winograd: WinogradUse

    public init(threads: Int = ProcessInfo.processInfo.activeProcessorCount, fuse: Bool = true,
                useReferenceKernels: Bool = ProcessInfo.processInfo.environment["WEAKSPOT_EXECUTOR"] == "reference",
                observable: Set<ValueID> = [], imageParallel: Bool = true, winograd: WinogradUse = .largePlanes) {
        self.threads = max(1, threads)
        self.fuse = fuse
        self.useReferenceKernels = useReferenceKernels
        self.observable = observable
        self.imageParallel = imageParallel
        self.winograd = winograd
    }
}

/// Where a plan uses Winograd convolutions. Every choice looks at one image's plane only, so an
/// image's results never depend on the batch it is in.
public enum WinogradUse: Sendable {
    /// Direct convolutions only. Gradient engines use it: backpropagation through a randomly
    /// initialised BatchNormalization network amplifies Winograd's rounding past the 1e-3
    /// agreement with PyTorch that the gradient tests hold.
    case off
    /// Planes of at least 16 tiles (14×14 and up): faster at every batch size. The default.
    case largePlanes
    /// Also planes of 4 to 15 tiles (7×7). Their transformed weights are 4× the direct ones, which
    /// a single image streams from memory for few multiplies; many images share them. For plans
    /// that run many images per call, such as the profiler's cones.
    case allPlanes
}

/// A rewrite of an activation in place (for example, zeroing some channels).
public typealias Intervention = @Sendable (inout Tensor) -> Void

/// One executable step: one node, or a fused chain of nodes.
struct Step: Sendable {
    /// The node indices it covers, in order; the first names the step in errors.
    let nodes: [Int]
    let inputs: [ValueID]
    let output: ValueID
    let kernel: StepKernel
}

/// A graph compiled for execution: kernels chosen, weights folded and packed once. Runs any batch
/// size, and any part of the graph: given the values already known (the input, or cached
/// activations), `run` executes only the steps that the requested outputs still need.
public final class ExecutionPlan: Sendable {
    public let graph: Graph
    public let options: ExecutionOptions
    let steps: [Step]
    /// The step producing each value (nil for inputs and constants).
    let producerStep: [Int?]
    /// Whether `run(_:)` may run the images of a large batch one per thread, each through the
    /// whole graph (`imageParallel` is on and the graph is batch-separable; ImageParallel.swift).
    public let batchSeparable: Bool

    public init(graph: Graph, options: ExecutionOptions = .init()) throws(GraphError) {
        MemoryPolicy.retainFreedMemory()
        self.graph = graph
        self.options = options
        var builder = PlanBuilder(graph: graph, options: options)
        let steps = try builder.build()
        var producer = [Int?](repeating: nil, count: graph.values.count)
        for (i, s) in steps.enumerated() { producer[s.output] = i }
        self.steps = steps
        self.producerStep = producer
        self.batchSeparable = options.imageParallel && Self.isBatchSeparable(graph)
    }

    /// The number of steps after fusion (for diagnostics and tests).
    public var stepCount: Int { steps.count }

    /// Runs the graph on one input batch and returns the graph outputs in order.
    public func run(_ input: Tensor) throws(ExecutionError) -> [Tensor] {
        guard let first = graph.inputs.first else { throw ExecutionError("the graph has no input") }
        let expected = first.sampleShape
        guard input.rank == expected.count + 1, Array(input.shape.dropFirst()) == expected else {
            throw ExecutionError("input shape \(input.shape) does not match the model's (N, \(expected.map(String.init).joined(separator: ", ")))")
        }
        let threads = options.threads
        if batchSeparable, threads > 1, input.shape[0] >= threads * Self.imagesPerThreadForImageParallel {
            return try runImageParallel(input, threads: threads)
        }
        let result = try run(known: [first.value: input], outputs: graph.outputs)
        return graph.outputs.map { result[$0]! }
    }

    /// Computes `outputs` (and returns them together with every value in `keep` that was computed
    /// or known) from the values in `known`. Steps whose output is known are skipped, so passing
    /// cached activations runs only the part of the graph downstream of the values that changed.
    /// `batch` is the leading dimension of the runtime tensors (inferred from `known` if nil);
    /// `threads` overrides the plan's thread count for this run (the profiler runs several items
    /// at once, one thread each).
    ///
    /// `interventions` rewrite a value right after it is known or computed, before any step reads
    /// it: the profiler's masks. An intervened value must be observable in the plan's options
    /// (fusion would otherwise hide it), or be in `known`.
    public func run(known: [ValueID: Tensor], outputs: [ValueID], keep: Set<ValueID> = [], batch: Int? = nil,
                    interventions: [ValueID: Intervention] = [:], incremental: IncrementalBase? = nil,
                    threads: Int? = nil) throws(ExecutionError) -> [ValueID: Tensor] {
        let batch = batch ?? known.values.first?.shape.first ?? 1
        let threads = max(1, threads ?? options.threads)
        var env = [Tensor?](repeating: nil, count: graph.values.count)
        for (id, t) in known { env[id] = t }
        for (id, change) in interventions {
            if env[id] != nil { change(&env[id]!) } else if producerStep[id] == nil {
                throw ExecutionError("value '\(graph.values[id].name)' cannot be intervened on: it is neither known nor observable in the plan")
            }
        }
        // Which steps are needed, walking back from the outputs.
        var needed = [Bool](repeating: false, count: steps.count)
        var stack = outputs + Array(keep)
        var visited = Set<ValueID>()
        while let v = stack.popLast() {
            guard visited.insert(v).inserted, env[v] == nil, graph.constants[v] == nil else { continue }
            guard let s = producerStep[v] else {
                if keep.contains(v) && !outputs.contains(v) { continue }
                throw ExecutionError("value '\(graph.values[v].name)' is neither known nor computed by the graph")
            }
            if !needed[s] {
                needed[s] = true
                stack.append(contentsOf: steps[s].inputs)
            }
        }
        // Incremental runs: which values differ from the cache, and in which channels.
        var changed: [ValueID: [Int]] = incremental?.changed ?? [:]
        var changedFully = Set<ValueID>()
        // Remaining reads of each value, to free activations as soon as possible.
        var reads = [Int](repeating: 0, count: graph.values.count)
        for (i, s) in steps.enumerated() where needed[i] { for v in s.inputs { reads[v] += 1 } }
        let retained = Set(outputs).union(keep)
        for (i, step) in steps.enumerated() where needed[i] {
            var ins: [Tensor] = []
            ins.reserveCapacity(step.inputs.count)
            for v in step.inputs {
                if let t = env[v] { ins.append(t) } else if let c = graph.constants[v] { ins.append(c) } else {
                    throw ExecutionError("value '\(graph.values[v].name)' is missing", node: graph.nodes[step.nodes[0]].name)
                }
            }
            for v in step.inputs where env[v] != nil {
                reads[v] -= 1
                if reads[v] == 0 && !retained.contains(v) && known[v] == nil { env[v] = nil }
            }
            do {
                if let base = incremental {
                    let changes: [ChannelChange] = step.inputs.map { v in
                        if let s = changed[v] { return .channels(s) }
                        if changedFully.contains(v) { return .all }
                        return .unchanged
                    }
                    if let (value, change) = try incrementalOutput(step, inputs: ins, changes: changes, base: base, threads: threads) {
                        env[step.output] = value
                        if case .channels(let s) = change { changed[step.output] = s } else { changedFully.insert(step.output) }
                    } else {
                        env[step.output] = try step.kernel.run(ins, batch: batch, threads: threads)
                        changedFully.insert(step.output)
                    }
                } else {
                    env[step.output] = try step.kernel.run(ins, batch: batch, threads: threads)
                }
                if let change = interventions[step.output] {
                    change(&env[step.output]!)
                    changed[step.output] = nil
                    changedFully.insert(step.output)
                }
            } catch {
                var e = error
                if e.node == nil { let n = graph.nodes[step.nodes[0]]; e.node = "\(n.name) (\(n.op.onnxName))" }
                throw e
            }
        }
        var result: [ValueID: Tensor] = [:]
        for v in retained { if let t = env[v] ?? graph.constants[v] { result[v] = t } }
        return result
    }
}
