import Execution
import NetworkIR

/// A producer's weight at one bit width (`Profiler.quantizedWeight`).
struct QuantizedWeightKey: Hashable {
    var producer: Int
    var bits: Int
}

extension Profiler {
    /// Whether an item's perturbation changes weights rather than activations: noise and
    /// quantization, any perturbation of a parameter tensor, and unstructured layer sweeps.
    func actsOnWeights(_ item: InfluenceItem) -> Bool {
        if options.perturbation.actsOnWeights || item.kind == .tensor { return true }
        if case .prune = options.perturbation, options.pruneMode == .unstructured, item.kind == .layer { return true }
        return false
    }

    /// The weight and bias changes of an item at one level, per producer.
    func weightDeltas(_ item: InfluenceItem, level: Float) throws -> [(producer: Int, delta: WeightDelta)] {
        var result: [(Int, WeightDelta)] = []
        for (p, channels) in zip(item.producers, item.producerChannels) {
            let node = graph.nodes[p]
            guard node.inputs.count > 1, let w = graph.constants[node.inputs[1]] else {
                throw InfluenceError("\(node.name): the weights are not a constant, so they cannot be perturbed")
            }
            let bias = node.inputs.count > 2 ? graph.constants[node.inputs[2]] : nil
            // A tensor item perturbs its own tensor, every channel of it; the other kinds perturb the
            // filter weights of their channels.
            var onBias = false
            if item.kind == .tensor {
                onBias = node.inputs.count > 2 && "tensor:" + graph.values[node.inputs[2]].name == item.id
            }
            var delta = WeightDelta()
            let seed = options.seed ^ stableHash(item.id) ^ UInt64(p)
            if onBias, let bias {
                let values = channels.map { bias.storage[$0] }
                let changed = perturbed(values, whole: bias.storage, level: level, seed: seed, perChannel: false)
                for (k, ch) in channels.enumerated() where changed[k] != values[k] { delta.bias[ch] = changed[k] - values[k] }
            } else if case .prune = options.perturbation {
                // Unstructured sweep: the int(S·n) smallest-magnitude weights of the layer.
                let all = channels.map { WeightPerturbation.filter(w, node: node, channel: $0) }
                let flat = all.flatMap { $0 }
                let count = Int((Double(level) * Double(flat.count)).rounded(.down))
                let order = flat.indices.sorted { abs(flat[$0]) != abs(flat[$1]) ? abs(flat[$0]) < abs(flat[$1]) : $0 < $1 }
                let removed = Set(order.prefix(count))
                var offset = 0
                for (k, ch) in channels.enumerated() {
                    let f = all[k]
                    if (offset ..< offset + f.count).contains(where: removed.contains) {
                        delta.weight[ch] = f.indices.map { removed.contains(offset + $0) ? -f[$0] : 0 }
                    }
                    offset += f.count
                }
            } else if case .quantize = options.perturbation {
                // Every channel's filter as the quantized tensor holds it: the scales come from the
                // whole tensor (its output channels, or all of it), whatever the item covers.
                let q = quantizedWeight(producer: p, bits: Int(level))
                for ch in channels {
                    let f = WeightPerturbation.filter(w, node: node, channel: ch)
                    let changed = WeightPerturbation.filter(q, node: node, channel: ch)
                    if changed != f { delta.weight[ch] = zip(changed, f).map { $0 - $1 } }
                }
            } else {
                let filters = channels.map { WeightPerturbation.filter(w, node: node, channel: $0) }
                // Noise scales with the spread of what is perturbed: the filter for a channel, the
                // whole tensor for a layer or tensor.
                let whole = item.kind == .channel || item.kind == .group ? nil as [Float]? : w.storage
                for (k, ch) in channels.enumerated() {
                    let f = filters[k]
                    let changed = perturbed(f, whole: whole ?? f, level: level, seed: seed &+ UInt64(ch), perChannel: true)
                    delta.weight[ch] = zip(changed, f).map { $0 - $1 }
                }
            }
            if !delta.isEmpty { result.append((p, delta)) }
        }
        return result
    }

    /// `values` after the run's perturbation. `whole` is the tensor whose spread scales noise.
    func perturbed(_ values: [Float], whole: [Float], level: Float, seed: UInt64, perChannel: Bool) -> [Float] {
        switch options.perturbation {
        case .zero: return values.map { _ in 0 }
        case .scale(let a): return values.map { $0 * a }
        case .prune: return values.map { _ in 0 }
        case .noise(let s):
            let sigma = s * WeightPerturbation.standardDeviation(whole)
            return zip(values, WeightPerturbation.normals(values.count, seed: seed)).map { $0 + sigma * $1 }
        case .quantize:
            // A bias is kept in float, as quantizers keep it (onnxruntime stores it as int32 at
            // the input scale × the weight scale, far finer than the weights).
            return values
        }
    }

    /// Producer `p`'s weight tensor rounded to `bits` (`QuantizedWeights`, scales per output
    /// channel or per tensor by `--quantize-granularity`), dequantized; memoised.
    func quantizedWeight(producer p: Int, bits: Int) -> Tensor {
        let key = QuantizedWeightKey(producer: p, bits: bits)
        if let t = quantizedWeights.withLock({ $0[key] }) { return t }
        let node = graph.nodes[p]
        let w = graph.constants[node.inputs[1]]!
        let axis = options.quantizeGranularity == .channel ? node.weightOutputAxis : nil
        let t = QuantizedWeights(w, bits: bits, axis: axis).dequantized
        quantizedWeights.withLock { $0[key] = t }
        return t
    }

    /// Perturbed logits of a weight item: each producer's raw output gets its change added, then
    /// the downstream cone runs from the cache.
    func weightPerturbedLogits(_ item: InfluenceItem, level: Float, cache: BatchCache, threads: Int?) throws -> Tensor {
        let deltas = try weightDeltas(item, level: level)
        if deltas.isEmpty {
            return roundsActivations ? try activationQuantizedLogits(item, bits: Int(level), cache: cache, threads: threads) : cache.logits
        }
        var replaced: [ValueID: Tensor] = [:]
        var changed: [ValueID: [Int]] = [:]
        for (p, delta) in deltas {
            let node = graph.nodes[p]
            let out = node.outputs[0]
            guard var y = cache.values[out], let x = cache.values[node.inputs[0]], let w = graph.constants[node.inputs[1]] else {
                throw InfluenceError("internal: \(node.name): its input or output was not kept for a weight perturbation")
            }
            try WeightPerturbation.apply(delta, node: node, weights: w, input: x, to: &y, threads: threads ?? options.threads)
            replaced[out] = y
            changed[out] = Array(Set(delta.weight.keys).union(delta.bias.keys)).sorted()
        }
        // `--quantize-target both`: the layer's output is rounded too.
        let rounding = roundsActivations ? try activationInterventions(item, bits: Int(level)) : [:]
        return try rerunCone(replacing: replaced, rounding: rounding, changed: changed, cache: cache, threads: threads)
    }

    /// The logits with `replaced` standing in for cached values and their downstream cone run
    /// again. Each `rounding` intervention applies where the cone passes its value, or to the
    /// replaced value itself when that is not recomputed (an activation rounded in place; a
    /// classifier, whose tail end is its own output). `changed` lists channels per replaced value
    /// for an incremental run; rounding changes every channel, so it runs in full.
    func rerunCone(replacing replaced: [ValueID: Tensor], rounding: [ValueID: Intervention] = [:], changed: [ValueID: [Int]],
                   cache: BatchCache, threads: Int?) throws -> Tensor {
        let cone = graph.downstreamCone(of: Set(replaced.keys))
        let recomputed = Set(cone.flatMap { graph.nodes[$0].outputs })
        var known: [ValueID: Tensor] = [:]
        for (v, t) in cache.values where !recomputed.contains(v) { known[v] = t }
        for (v, t) in replaced { known[v] = t }
        var interventions = baseInterventions.filter { recomputed.contains($0.key) }
        for (v, round) in rounding {
            if recomputed.contains(v) {
                if let base = interventions[v] { interventions[v] = { t in base(&t); round(&t) } } else { interventions[v] = round }
            } else if var t = known[v], replaced[v] != nil {
                round(&t)
                known[v] = t
            } else {
                throw InfluenceError("internal: '\(graph.values[v].name)' is neither recomputed nor replaced")
            }
        }
        let incremental = options.incremental && rounding.isEmpty ? IncrementalBase(cache: cache.values, changed: changed) : nil
        let result = try plan.run(known: known, outputs: [logitsValue], batch: cache.batch,
                                  interventions: interventions, incremental: incremental, threads: threads)
        return result[logitsValue]!
    }
}
