import Dispatch
import Execution
import NetworkIR
import Support

/// What an exact profile cannot go below on this engine: every measured item's downstream cone
/// recomputed once per input and level at the engine's own forward speed. The report's `timing`
/// carries it (`floorSeconds`) and the ratio of the wall time to it (`floorRatio`), so the
/// profiler's overhead beyond the arithmetic it must do — per-item setup, metrics, bootstrap,
/// I/O — is a figure, not a guess.
///
/// A cone's MACs are those of the Conv/Gemm/MatMul nodes downstream of the item's mask points (the
/// cost model's MACs; elementwise work is not counted, as in `count`). With incremental runs on, a
/// convolution reading a masked value directly is updated from only the changed channels, so it
/// counts that fraction of its MACs; a weight item also pays its producer's change, conv(x, ΔW) over
/// the changed filters. The rate is the MACs of one whole forward pass of the profiled model,
/// batch as the run's, divided by its best time over three passes.
public struct ProfileFloor: Sendable {
    public var macs: Double
    /// MACs per second of a whole forward pass on this engine.
    public var rate: Double
    /// MACs per CPU-second of the same passes (all threads' CPU time): what the floor costs in
    /// CPU time, which other jobs on a shared machine do not inflate. Nil when CPU time cannot
    /// be read.
    public var cpuRate: Double? = nil
    public var seconds: Double { rate > 0 ? macs / rate : 0 }
    public var cpuSeconds: Double? { cpuRate.flatMap { $0 > 0 ? macs / $0 : nil } }
}

extension Profiler {
    /// MACs of one item's pass for one input.
    func coneMACs(_ item: InfluenceItem, costs: [String: Int], shapes: [[Int]?]) -> Double {
        var seeds = Set<ValueID>(), changed: [ValueID: Int] = [:]
        var total = 0.0
        let weights = actsOnWeights(item)
        for (p, channels) in zip(item.producers, item.producerChannels) {
            let node = graph.nodes[p]
            let seed = weights ? node.outputs[0] : target(producer: p)
            seeds.insert(seed)
            changed[seed, default: 0] += channels.count
            if weights, let outputs = discovery.tail(ofProducer: p)?.channels, outputs > 0 {
                total += Double(costs[node.name] ?? 0) * Double(channels.count) / Double(outputs)
            }
        }
        for n in graph.downstreamCone(of: seeds) {
            let node = graph.nodes[n]
            var macs = Double(costs[node.name] ?? 0)
            if options.incremental, case .conv = node.op, let x = node.inputs.first, let count = changed[x], let c = shapes[x]?.dropFirst().first, c > 0 {
                macs *= min(1, Double(count) / Double(c))
            }
            total += macs
        }
        return total
    }

    /// The floor of a run whose item `i` was measured on `inputs[i]` inputs at each of its levels.
    public func floor(inputs: [Int], batch: Int) throws -> ProfileFloor {
        let cost = try graph.cost(batch: 1)
        let costs = Dictionary(cost.layers.map { ($0.name, $0.macs) }, uniquingKeysWith: +)
        let shapes = try graph.inferShapes(batch: 1)
        var macs = 0.0
        for (item, n) in zip(items, inputs) { macs += coneMACs(item, costs: costs, shapes: shapes) * Double(n) * Double(levels(for: item).count) }
        let input = graph.inputs[0]
        let shape = input.shape(batch: batch)
        let sample = Tensor(shape: shape, storage: WeightPerturbation.normals(shape.reduce(1, *), seed: 0))
        var best = Double.infinity
        let passes = 3
        let cpuStart = ProcessCPUTime.seconds()
        for _ in 0..<passes {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try plan.run(known: [input.value: sample], outputs: [logitsValue])
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let passMACs = Double(cost.macs) * Double(shape[0])
        var floor = ProfileFloor(macs: macs, rate: best > 0 ? passMACs / best : 0)
        if let cpuStart, let cpuEnd = ProcessCPUTime.seconds(), cpuEnd > cpuStart {
            floor.cpuRate = passMACs * Double(passes) / (cpuEnd - cpuStart)
        }
        return floor
    }
}
