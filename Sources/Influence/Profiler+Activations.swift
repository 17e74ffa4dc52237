import Execution
import NetworkIR
import Quantization

extension Profiler {
    /// Whether this run's `quantize:` sweep rounds activations (`--quantize-target activations|both`).
    var roundsActivations: Bool {
        if case .quantize = options.perturbation { return options.quantizeTarget.roundsActivations }
        return false
    }

    /// The fake quantization of producer `p`'s tail end at `bits`, from its calibrated range
    /// (onnxruntime's asymmetric unsigned scale and zero point), as `QuantizedGraph` inserts it.
    func activationQuantization(producer p: Int, bits: Int) throws -> (value: ValueID, quantization: FakeQuantization) {
        guard let t = discovery.tail(ofProducer: p) else { throw InfluenceError("internal: \(graph.nodes[p].name) has no channel tail") }
        guard let range = activationRanges[t.end] else {
            throw InfluenceError("\(graph.nodes[p].name): its output '\(graph.values[t.end].name)' has no calibrated range (give --calibrate)")
        }
        return (t.end, ActivationQuantizer.fakeQuantization(range: range, bits: bits))
    }

    /// Interventions rounding every tail end of `item` at `bits`.
    func activationInterventions(_ item: InfluenceItem, bits: Int) throws -> [ValueID: Intervention] {
        var result: [ValueID: Intervention] = [:]
        for p in item.producers {
            let (v, q) = try activationQuantization(producer: p, bits: bits)
            result[v] = { tensor in tensor.storage.withUnsafeMutableBufferPointer { b in for i in b.indices { b[i] = q.apply(b[i]) } } }
        }
        return result
    }

    /// Logits with the item's output activations rounded (weights untouched): the cached tail
    /// ends rounded in place, the downstream cone run again.
    func activationQuantizedLogits(_ item: InfluenceItem, bits: Int, cache: BatchCache, threads: Int?) throws -> Tensor {
        let rounding = try activationInterventions(item, bits: bits)
        var cached: [ValueID: Tensor] = [:]
        for v in rounding.keys {
            guard let t = cache.values[v] else { throw InfluenceError("internal: '\(graph.values[v].name)' was not kept for activation rounding") }
            cached[v] = t
        }
        return try rerunCone(replacing: cached, rounding: rounding, changed: [:], cache: cache, threads: threads)
    }

    /// The calibrated range of every profiled layer's tail end over `batches` (min–max of the
    /// float model's activations), for `--quantize-target activations|both`.
    public func calibrateActivations(_ batches: [Tensor]) throws {
        let ends = Array(Set(items.flatMap { $0.producers.compactMap { discovery.tail(ofProducer: $0)?.end } })).sorted()
        guard !batches.isEmpty else { throw InfluenceError("--calibrate: no calibration inputs") }
        activationRanges = try QuantizedGraph.calibrate(graph, values: ends, method: .minmax, batches: batches, threads: options.threads)
    }
}
