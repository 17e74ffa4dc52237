import Execution
import Foundation
import NetworkIR

/// Recalibration by statistics matching, for models whose BatchNormalization was folded into the
/// convolutions (most exports) and, on request, for any other: after a cut, every layer whose
/// input lost channels gets, per output channel, the mean and standard deviation that the unpruned
/// model's same channel had on the same inputs. The correction is an affine map of the layer's
/// output, `y' = a·y + s` with `a = σ_original / σ_pruned` and `s = μ_original − a·μ_pruned`,
/// written into the layer's constants (weights scaled by `a`, bias `a·b + s`; or, for a layer
/// without bias followed by BatchNormalization, that layer's scale and mean).
///
/// Layers are corrected in graph order, each measured after the corrections above it (so a layer
/// sees what the corrected earlier layers give it), in one pass over all N inputs as one batch.
/// Statistics are over the batch and every spatial position (population variance). Where the
/// pruned or the original channel is constant (a σ is 0) only the mean is moved (`a = 1`). Layers whose output
/// cannot hold the correction (no bias and no BatchNormalization after it, or constants shared with
/// another node) are left as they are and listed. docs/recalibration.md states the rule.
public enum StatisticsMatching {
    /// The correction of one layer's output channels.
    public struct LayerCorrection: Sendable, Equatable {
        /// The Conv or Gemm node, by name.
        public var node: String
        public var scale: [Float]
        public var shift: [Float]
    }

    public struct Summary: Sendable, Equatable {
        /// Layers whose output statistics were matched.
        public var corrected: [LayerCorrection]
        /// Layers downstream of the cut that have no place for the correction (by node name).
        public var uncorrected: [String]
        public var inputs: Int
    }

    /// Matches the statistics of `masked` (the original graph with the removed channels zeroed,
    /// every original node and value kept under its name) to those of `original` on `inputs`.
    /// `changed` are the values of `masked` where channels were zeroed; only layers downstream of
    /// them are corrected. Returns the corrections, applied to neither graph.
    public static func match(original: Graph, masked: Graph, changed: Set<ValueID>, inputs: Tensor, threads: Int) throws(TrainingError) -> Summary {
        guard let input = masked.inputs.first?.value, let originalInput = original.inputs.first?.value else {
            throw TrainingError("--recalibrate: the model has no input")
        }
        let batch = inputs.shape.first ?? 0
        guard batch > 0 else { throw TrainingError("--recalibrate: expected at least one input, got none") }
        // Layers downstream of the cut, in graph order, that exist in the original under the same name.
        var layers: [(masked: Int, original: Int)] = []
        var uncorrected: [String] = []
        let readers = masked.consumers()
        for n in masked.downstreamCone(of: changed) where isLayer(masked.nodes[n].op) {
            guard let o = original.node(named: masked.nodes[n].name) else { continue }
            if placement(of: n, in: masked, readers: readers) == nil { uncorrected.append(masked.nodes[n].name) } else { layers.append((n, o)) }
        }
        guard !layers.isEmpty else { return Summary(corrected: [], uncorrected: uncorrected, inputs: batch) }

        // The original's statistics at each layer output.
        let targets: [(mean: [Double], std: [Double])]
        do {
            let outputs = Set(layers.map { original.nodes[$0.original].outputs[0] })
            let plan = try ExecutionPlan(graph: original, options: ExecutionOptions(threads: threads, observable: outputs))
            let values = try plan.run(known: [originalInput: inputs], outputs: original.outputs, keep: outputs)
            targets = try layers.map { l throws(TrainingError) in
                guard let t = values[original.nodes[l.original].outputs[0]] else {
                    throw TrainingError("--recalibrate: '\(original.nodes[l.original].name)' gave no output")
                }
                return channelStatistics(t)
            }
        } catch let e as TrainingError { throw e } catch {
            throw TrainingError("--recalibrate: the original model: \(error)")
        }

        // The masked model, corrected layer by layer as the pass reaches each one.
        let box = CorrectionBox()
        var interventions: [ValueID: Intervention] = [:]
        for (i, l) in layers.enumerated() {
            let target = targets[i]
            let name = masked.nodes[l.masked].name
            interventions[masked.nodes[l.masked].outputs[0]] = { tensor in
                let now = channelStatistics(tensor)
                var scale = [Float](repeating: 1, count: now.mean.count), shift = [Float](repeating: 0, count: now.mean.count)
                for c in 0..<min(now.mean.count, target.mean.count) {
                    let a = now.std[c] > 0 && target.std[c] > 0 ? target.std[c] / now.std[c] : 1
                    scale[c] = Float(a)
                    shift[c] = Float(target.mean[c] - a * now.mean[c])
                }
                apply(scale: scale, shift: shift, to: &tensor)
                box.set(i, LayerCorrection(node: name, scale: scale, shift: shift))
            }
        }
        do {
            let observable = Set(layers.map { masked.nodes[$0.masked].outputs[0] })
            let plan = try ExecutionPlan(graph: masked, options: ExecutionOptions(threads: threads, observable: observable))
            _ = try plan.run(known: [input: inputs], outputs: masked.outputs, interventions: interventions)
        } catch {
            throw TrainingError("--recalibrate: the pruned model: \(error)")
        }
        let corrected = box.all(count: layers.count)
        guard corrected.count == layers.count else {
            throw TrainingError("--recalibrate: \(layers.count - corrected.count) layers downstream of the cut were not reached by the forward pass")
        }
        return Summary(corrected: corrected, uncorrected: uncorrected, inputs: batch)
    }

    /// Writes `corrections` into the constants of `graph` (the masked graph or the original: the
    /// layers are found by name). Returns the names of the constants that changed.
    @discardableResult
    public static func apply(_ corrections: [LayerCorrection], to graph: inout Graph) throws(TrainingError) -> [String] {
        var changed: [String] = []
        let readers = graph.consumers()
        for c in corrections {
            guard let n = graph.node(named: c.node), let place = placement(of: n, in: graph, readers: readers) else {
                throw TrainingError("--recalibrate: layer '\(c.node)' has no place for its correction in this graph")
            }
            switch place {
            case .weightAndBias(let weight, let bias, let rowsAreChannels):
                var w = graph.constants[weight]!, b = graph.constants[bias]!
                guard b.count == c.scale.count, w.count % c.scale.count == 0 else {
                    throw TrainingError("--recalibrate: layer '\(c.node)': \(c.scale.count) corrections for a bias of \(b.count)")
                }
                let channels = c.scale.count, per = w.count / channels
                for i in 0..<w.count {
                    let channel = rowsAreChannels ? i / per : i % channels
                    w.storage[i] *= c.scale[channel]
                }
                for k in 0..<channels { b.storage[k] = c.scale[k] * b.storage[k] + c.shift[k] }
                graph.constants[weight] = w
                graph.constants[bias] = b
                changed += [graph.values[weight].name, graph.values[bias].name]
            case .batchNormalization(let scale, let mean):
                // BN(a·y + s) with (γ, m) equals BN(y) with (γ·a, (m − s)/a).
                var g = graph.constants[scale]!, m = graph.constants[mean]!
                guard g.count == c.scale.count, m.count == c.scale.count else {
                    throw TrainingError("--recalibrate: layer '\(c.node)': \(c.scale.count) corrections for a BatchNormalization of \(g.count)")
                }
                for k in 0..<g.count {
                    // a > 0 always (a ratio of two positive deviations, or 1).
                    m.storage[k] = (m.storage[k] - c.shift[k]) / c.scale[k]
                    g.storage[k] *= c.scale[k]
                }
                graph.constants[scale] = g
                graph.constants[mean] = m
                changed += [graph.values[scale].name, graph.values[mean].name]
            }
        }
        return changed
    }

    /// Where a layer's output correction is written.
    enum Placement {
        /// Weight rows (Conv; Gemm with transB) or columns (Gemm) per output channel, and a bias
        /// with one entry per channel.
        case weightAndBias(weight: ValueID, bias: ValueID, rowsAreChannels: Bool)
        /// The scale and mean of the BatchNormalization that alone reads the layer's output.
        case batchNormalization(scale: ValueID, mean: ValueID)
    }

    static func isLayer(_ op: Operator) -> Bool {
        switch op {
        case .conv, .gemm: return true
        default: return false
        }
    }

    /// `readers` is `graph.consumers()`, computed once by the caller (one walk of the graph per
    /// recalibration, not one per layer).
    static func placement(of n: Int, in graph: Graph, readers: [[Int]]) -> Placement? {
        let node = graph.nodes[n]
        func ownConstant(_ v: ValueID) -> Bool {
            graph.constants[v] != nil && readers[v].count == 1 && !graph.outputs.contains(v)
        }
        var rowsAreChannels = true
        switch node.op {
        case .conv:
            break
        case .gemm(_, let beta, _, let transB):
            guard beta != 0 else { return nil }
            rowsAreChannels = transB
        default:
            return nil
        }
        guard node.inputs.count >= 2, ownConstant(node.inputs[1]) else { return nil }
        let channels = rowsAreChannels ? graph.constants[node.inputs[1]]!.shape.first : graph.constants[node.inputs[1]]!.shape.last
        if node.inputs.count >= 3, ownConstant(node.inputs[2]), graph.constants[node.inputs[2]]!.count == channels {
            if case .gemm(_, let beta, _, _) = node.op, beta != 1 { return nil }
            return .weightAndBias(weight: node.inputs[1], bias: node.inputs[2], rowsAreChannels: rowsAreChannels)
        }
        guard node.inputs.count < 3 else { return nil }
        let out = node.outputs[0]
        guard readers[out].count == 1, !graph.outputs.contains(out) else { return nil }
        let bn = graph.nodes[readers[out][0]]
        guard case .batchNormalization = bn.op, bn.inputs.count == 5, bn.inputs[0] == out,
              ownConstant(bn.inputs[1]), ownConstant(bn.inputs[3]) else { return nil }
        return .batchNormalization(scale: bn.inputs[1], mean: bn.inputs[3])
    }

    /// Per-channel (axis 1) mean and population standard deviation over every other axis.
    static func channelStatistics(_ t: Tensor) -> (mean: [Double], std: [Double]) {
        let channels = t.shape.count >= 2 ? t.shape[1] : 1
        let batch = t.shape.first ?? 1
        let inner = t.count / max(batch * channels, 1)
        var sum = [Double](repeating: 0, count: channels), squares = [Double](repeating: 0, count: channels)
        t.storage.withUnsafeBufferPointer { p in
            for n in 0..<batch {
                for c in 0..<channels {
                    let base = (n * channels + c) * inner
                    var s = 0.0, q = 0.0
                    for i in 0..<inner { let x = Double(p[base + i]); s += x; q += x * x }
                    sum[c] += s; squares[c] += q
                }
            }
        }
        let count = Double(batch * inner)
        let mean = sum.map { $0 / count }
        let std = zip(squares, mean).map { q, m in (max(q / count - m * m, 0)).squareRoot() }
        return (mean, std)
    }

    static func apply(scale: [Float], shift: [Float], to t: inout Tensor) {
        let channels = t.shape.count >= 2 ? t.shape[1] : 1
        let batch = t.shape.first ?? 1
        let inner = t.count / max(batch * channels, 1)
        t.storage.withUnsafeMutableBufferPointer { p in
            for n in 0..<batch {
                for c in 0..<channels {
                    let base = (n * channels + c) * inner, a = scale[c], s = shift[c]
                    for i in 0..<inner { p[base + i] = a * p[base + i] + s }
                }
            }
        }
    }
}

/// The corrections found during one forward pass, by layer position.
private final class CorrectionBox: @unchecked Sendable {
    private var found: [Int: StatisticsMatching.LayerCorrection] = [:]
    private let lock = NSLock()

    func set(_ i: Int, _ c: StatisticsMatching.LayerCorrection) { lock.lock(); found[i] = c; lock.unlock() }

    func all(count: Int) -> [StatisticsMatching.LayerCorrection] {
        lock.lock(); defer { lock.unlock() }
        return (0..<count).compactMap { found[$0] }
    }
}
