import ChannelGroups
import Dispatch
import Execution
import Foundation
import NetworkIR
import Support

/// The measurements of one item: one set of per-input metrics, or one per sweep level.
public struct ItemMeasurement: Sendable, Equatable {
    public var item: InfluenceItem
    /// Per level (a single level 1.0 — "the item as perturbed" — unless sweeping), the per-input
    /// values of every metric, in input order.
    public var levels: [Float]
    public var metrics: [PerInputMetrics]
    /// `--adaptive`: how the item was decided (nil in exact mode).
    public var adaptive: AdaptiveDecision? = nil
}

/// Measures influence by perturbing items and re-running only the part of the network the
/// perturbation reaches.
///
/// One baseline pass per batch of inputs keeps every activation; an item's pass then starts from
/// those cached activations, applies the item's mask where its channels are read (the end of the
/// producer's per-channel tail, or its raw output), and recomputes only the downstream cone.
public final class Profiler: @unchecked Sendable {
    /// The profiler's plans run 3×3 convolutions as Winograd at every plane size: cones run many
    /// images per call, where 7×7 pays too (`WinogradUse.allPlanes`). One value for every plan a
    /// profile builds, so their bits agree.
    static let winograd = WinogradUse.allPlanes

    public let graph: Graph
    public let options: ProfileOptions
    public let discovery: ItemDiscovery
    /// Every item (all shards), in index order.
    public let allItems: [InfluenceItem]
    /// The items this run measures (its shard).
    public let items: [InfluenceItem]
    let plan: ExecutionPlan
    let logitsValue: ValueID
    /// What the model's output holds (`options.outputKind`, or read from the graph).
    public let outputKind: OutputKind

    public init(graph: Graph, options: ProfileOptions) throws {
        self.graph = graph
        self.options = options
        let discovery = try ItemDiscovery(graph: graph)
        self.discovery = discovery
        if case .prune = options.perturbation, !options.kinds.contains(.layer) {
            throw InfluenceError("--perturb prune:… sweeps layers: add layers to --items (channels and groups are then zeroed, which is what pruning one of them does)")
        }
        if case .quantize = options.perturbation, options.quantizeTarget.roundsActivations, options.kinds != [.layer] {
            throw InfluenceError("--quantize-target \(options.quantizeTarget.rawValue) rounds a whole layer's output: use --items layers")
        }
        if options.pruneMode == .unstructured {
            guard case .prune = options.perturbation else { throw InfluenceError("--prune-mode unstructured applies to layer sweeps (--perturb prune:…)") }
        }
        let all = discovery.items(kinds: options.kinds, layerPattern: options.layerPattern)
        guard !all.isEmpty else {
            throw InfluenceError("no items: no Conv/Gemm node matches --layers \(options.layerPattern ?? "*")")
        }
        allItems = all
        items = options.shard.map { s in all.filter { s.contains($0.index) } } ?? all
        guard graph.outputs.count >= 1 else { throw InfluenceError("the model has no output") }
        logitsValue = graph.outputs[0]
        outputKind = OutputKind.resolve(options.outputKind, graph: graph)
        var observable = Set<ValueID>()
        for t in discovery.tails {
            observable.insert(options.ablateAt == .structural ? t.end : t.output)
            // The activation estimators read what consumers see, whatever the ablation point.
            if options.estimators.contains(where: \.needsActivations) || options.quantizeTarget.roundsActivations { observable.insert(t.end) }
            // Weight perturbations change a producer's raw output from its cached input.
            if options.perturbation.actsOnWeights || options.kinds.contains(.tensor) || options.pruneMode == .unstructured {
                observable.insert(t.output)
            }
        }
        if options.incremental {
            // Raw convolution outputs stay tensors, so an incremental run can update them from the cache.
            for node in graph.nodes { if case .conv = node.op { observable.insert(node.outputs[0]) } }
        }
        plan = try ExecutionPlan(graph: graph, options: ExecutionOptions(threads: options.threads, observable: observable,
                                                                         winograd: Self.winograd))
    }

    /// The value an item's mask applies to, for one of its producers.
    func target(producer: Int) -> ValueID {
        let t = discovery.tail(ofProducer: producer)!
        return options.ablateAt == .structural ? t.end : t.output
    }

    /// The channel axis of a mask target: 1 for raw outputs, the tail's axis at its end.
    func targetAxis(_ value: ValueID) -> Int {
        discovery.tails.first { $0.end == value && options.ablateAt == .structural }?.axis ?? 1
    }

    /// Activations of one batch of inputs, and the baseline logits.
    public struct BatchCache: @unchecked Sendable {
        public let values: [ValueID: Tensor]
        public let logits: Tensor
        public let batch: Int
    }

    /// Interventions applied in every pass, baseline included: a pruning plan's masks, when
    /// `plan --steps` re-measures the remaining groups of a partly pruned model. Items are then
    /// measured against the masked model.
    public var baseInterventions: [ValueID: Intervention] = [:]

    /// Where item work is tallied (`timing.phases.itemThreadSeconds`), when a session asks.
    public var phases: ProfilePhases? = nil

    /// Each producer's weight tensor quantized at each bit width (`quantize:`), computed once:
    /// channel items of one layer share it.
    let quantizedWeights = Locked<[QuantizedWeightKey: Tensor]>([:])

    /// Calibrated (min, max) of each profiled layer's tail end (`calibrateActivations`), for
    /// sweeps that round activations.
    public internal(set) var activationRanges: [ValueID: (Float, Float)] = [:]

    public func cache(input: Tensor) throws -> BatchCache {
        let all = Set(graph.nodes.flatMap(\.outputs)).union(graph.inputs.map(\.value))
        let values = try plan.run(known: [graph.inputs[0].value: input], outputs: [logitsValue], keep: all, interventions: baseInterventions)
        return BatchCache(values: values, logits: values[logitsValue]!, batch: input.shape[0])
    }

    /// Where the activation estimators look: each producer's tail end.
    public var tailEnds: [ChannelTailEnd] {
        discovery.tails.map { ChannelTailEnd(producer: $0.producer, value: $0.end, channels: $0.channels, axis: $0.axis) }
    }

    /// The channels a layer sweep removes at sparsity `s`: the int(s·C) filters with the smallest
    /// L1 norm, ties broken by the lower index (Distiller's and NNI's L1-filter rule).
    public func smallestFilters(producer: Int, sparsity: Float) -> [Int] {
        let norms = Estimators(discovery: discovery).filterNorms(producer: producer, power: 1)
        let channels = norms.count
        let count = Int((Double(sparsity) * Double(channels)).rounded(.down))
        return Array((0..<channels).sorted { norms[$0] != norms[$1] ? norms[$0] < norms[$1] : $0 < $1 }.prefix(count)).sorted()
    }

    /// Perturbed logits of one item at one level, from a batch's cache.
    /// `threads` overrides the options' thread count (1 when items run side by side).
    public func perturbedLogits(_ item: InfluenceItem, level: Float, cache: BatchCache, threads: Int? = nil) throws -> Tensor {
        if roundsActivations && !options.quantizeTarget.roundsWeights {
            return try activationQuantizedLogits(item, bits: Int(level), cache: cache, threads: threads)
        }
        if actsOnWeights(item) { return try weightPerturbedLogits(item, level: level, cache: cache, threads: threads) }
        var targets: [ValueID: [Int]] = [:]
        for (p, channels) in zip(item.producers, item.producerChannels) {
            let chosen: [Int]
            if case .prune = options.perturbation, item.kind == .layer { chosen = smallestFilters(producer: p, sparsity: level) } else { chosen = channels }
            targets[target(producer: p), default: []].append(contentsOf: chosen)
        }
        let factor: Float
        switch options.perturbation {
        case .scale(let a): factor = a
        case .zero, .prune, .noise, .quantize: factor = 0
        }
        if targets.values.allSatisfy({ $0.isEmpty }) { return cache.logits }
        let cone = graph.downstreamCone(of: Set(targets.keys))
        let recomputed = Set(cone.flatMap { graph.nodes[$0].outputs })
        var known: [ValueID: Tensor] = [:]
        known.reserveCapacity(cache.values.count)
        for (v, t) in cache.values where !recomputed.contains(v) { known[v] = t }
        var interventions: [ValueID: Intervention] = [:]
        var movedAxis = false
        for (v, channels) in targets where !channels.isEmpty {
            let list = channels
            let axis = targetAxis(v)
            movedAxis = movedAxis || axis != 1
            interventions[v] = { tensor in Perturbation.apply(factor: factor, channels: list, axis: axis, to: &tensor) }
        }
        // Base masks hold wherever values are recomputed; on a recomputed target both apply.
        for (v, base) in baseInterventions where recomputed.contains(v) {
            if let own = interventions[v] { interventions[v] = { tensor in base(&tensor); own(&tensor) } } else { interventions[v] = base }
        }
        // Targets known from the cache differ from it only in their item's channels.
        var changed: [ValueID: [Int]] = [:]
        for (v, channels) in targets where !recomputed.contains(v) && !channels.isEmpty { changed[v] = channels.sorted() }
        // Incremental updates describe changes as channels on axis 1; a mask on a moved axis runs in full.
        let incremental = options.incremental && !movedAxis ? IncrementalBase(cache: cache.values, changed: changed) : nil
        let result = try plan.run(known: known, outputs: [logitsValue], batch: cache.batch, interventions: interventions, incremental: incremental, threads: threads)
        return result[logitsValue]!
    }

    /// Measures `items` at every level against `baseline`, concurrently: with one thread per item,
    /// `options.threads` workers each take the next unmeasured item when they finish one (so a slow
    /// item does not idle the others); results come back in item order.
    public func measure(_ items: [InfluenceItem], cache: BatchCache, baseline: Baseline, threadsPerItem: Int) throws -> [[PerInputMetrics]] {
        let results = ResultSlots<[PerInputMetrics]>(count: items.count)
        let next = NextIndex()
        let workers = threadsPerItem == 1 ? min(items.count, max(1, options.threads)) : 1
        WorkerThreads.run(parts: workers) { _ in
            while let j = next.take(below: items.count) {
                do {
                    var levels: [PerInputMetrics] = []
                    for level in self.levels(for: items[j]) {
                        let start = DispatchTime.now().uptimeNanoseconds
                        let logits = try self.perturbedLogits(items[j], level: level, cache: cache, threads: threadsPerItem)
                        let computed = DispatchTime.now().uptimeNanoseconds
                        levels.append(baseline.compare(logits.storage))
                        self.phases?.addItemWork(cone: Double(computed &- start) / 1e9, metrics: ProfilePhases.seconds(since: computed))
                    }
                    results.set(j, .success(levels))
                } catch {
                    results.set(j, .failure(error))
                }
            }
        }
        return try results.values()
    }

    /// The levels measured for an item: a layer's sweep sparsities, the bit widths of
    /// `quantize:`, or one level (the item as perturbed; under `prune:` a channel or group is
    /// removed whole, i.e. zeroed).
    public func levels(for item: InfluenceItem) -> [Float] {
        if case .prune(let l) = options.perturbation, item.kind == .layer { return l }
        if case .quantize(let bits) = options.perturbation { return bits.map(Float.init) }
        return [1]
    }
}
