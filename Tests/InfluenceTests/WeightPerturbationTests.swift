import Execution
import Foundation
import Influence
import NetworkIR
import XCTest

/// Weight perturbations (noise, quantization, unstructured sweeps, tensor items) measured by the
/// profiler's delta path — conv(x, ΔW) added to the cached output, then the downstream cone —
/// against the obvious computation: a copy of the graph with the perturbed weights, run whole.
final class WeightPerturbationTests: XCTestCase {
    /// Runs `options` through the profiler and checks every item's kl against a full forward pass
    /// of a graph whose constants were replaced by `perturb(item, level, constants)`.
    func check(_ model: String, input: String, options: ProfileOptions, limit: Int = 12,
               expected: (InfluenceItem, Float, Graph) -> Graph) throws {
        let graph = try ProfileFixtures.graph(model)
        let x = try ProfileFixtures.tensor(input)
        let profiler = try Profiler(graph: graph, options: options)
        let cache = try profiler.cache(input: x)
        let baseline = Baseline(logits: cache.logits.storage, count: x.shape[0], labels: nil, kind: profiler.outputKind)
        let items = stride(from: 0, to: profiler.items.count, by: max(1, profiler.items.count / limit)).map { profiler.items[$0] }
        var checked = 0
        for item in items {
            for level in profiler.levels(for: item) {
                let fast = baseline.compare(try profiler.perturbedLogits(item, level: level, cache: cache).storage).means[.kl]!
                let edited = expected(item, level, graph)
                let plan = try ExecutionPlan(graph: edited, options: ExecutionOptions(threads: 2))
                let slow = baseline.compare(try plan.run(x)[0].storage).means[.kl]!
                XCTAssertEqual(fast, slow, accuracy: max(1e-6, 1e-3 * slow), "\(item.id) at \(level)")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 3)
    }

    /// Replaces producer `p`'s weight rows of `channels` using `f(filter) -> filter`.
    static func editFilters(_ graph: Graph, producer p: Int, channels: [Int], _ f: ([Float], Int) -> [Float]) -> Graph {
        var g = graph
        let node = graph.nodes[p]
        var w = graph.constants[node.inputs[1]]!
        if case .conv = node.op {
            let per = w.count / w.shape[0]
            for c in channels { let new = f(Array(w.storage[c * per ..< (c + 1) * per]), c); for k in 0..<per { w.storage[c * per + k] = new[k] } }
        } else if case .gemm(_, _, _, true) = node.op {
            let cols = w.shape[1]
            for c in channels { let new = f(Array(w.storage[c * cols ..< (c + 1) * cols]), c); for k in 0..<cols { w.storage[c * cols + k] = new[k] } }
        } else {
            let (rows, cols) = (w.shape[0], w.shape[1])
            for c in channels { let new = f((0..<rows).map { w.storage[$0 * cols + c] }, c); for r in 0..<rows { w.storage[r * cols + c] = new[r] } }
        }
        g.constants[node.inputs[1]] = w
        return g
    }

    func testQuantizedChannelsAndLayers() throws {
        var options = ProfileOptions()
        options.kinds = [.channel, .layer]
        options.perturbation = .quantize([3])
        try check("models/tiny_resnet.onnx", input: "models/tiny_resnet.input.npy", options: options) { item, _, graph in
            var g = graph
            for (p, channels) in zip(item.producers, item.producerChannels) {
                g = Self.editFilters(g, producer: p, channels: channels) { filter, _ in
                    // Independent of the implementation: numpy-style symmetric rounding.
                    let peak = filter.map { abs($0) }.max()!
                    let scale = peak / 3
                    return filter.map { max(-3, min(3, ($0 / scale).rounded(.toNearestOrEven))) * scale }
                }
            }
            return g
        }
    }

    /// A bits sweep (`quantize:8,4,2`) at both granularities: every level's KL equals the model
    /// with that layer's whole weight rounded numpy-style, scales per output channel or one for
    /// the tensor (computed here independently of `QuantizedWeights`).
    func testBitsSweepAtBothGranularities() throws {
        for granularity in QuantizationGranularity.allCases {
            var options = ProfileOptions()
            options.kinds = [.layer]
            options.perturbation = try Perturbation.parse("quantize:2,8,4")
            options.quantizeGranularity = granularity
            XCTAssertEqual(options.perturbation, .quantize([8, 4, 2]), "fewest bits last")
            try check("models/tiny_resnet.onnx", input: "models/tiny_resnet.input.npy", options: options) { item, level, graph in
                let bits = Int(level)
                let qmax = Float((1 << (bits - 1)) - 1)
                let node = graph.nodes[item.producers[0]]
                let w = graph.constants[node.inputs[1]]!
                let tensorPeak = w.storage.map { abs($0) }.max()!
                return Self.editFilters(graph, producer: item.producers[0], channels: item.producerChannels[0]) { filter, _ in
                    let peak = granularity == .channel ? filter.map { abs($0) }.max()! : tensorPeak
                    let scale = peak / qmax
                    return filter.map { max(-qmax, min(qmax, ($0 / scale).rounded(.toNearestOrEven))) * scale }
                }
            }
        }
    }

    func testUnstructuredSweepZeroesTheSmallestWeights() throws {
        var options = ProfileOptions()
        options.kinds = [.layer]
        options.perturbation = .prune([0.3, 0.7])
        options.pruneMode = .unstructured
        try check("models/tiny_mobilenet.onnx", input: "models/tiny_mobilenet.input.npy", options: options) { item, level, graph in
            var g = graph
            let node = graph.nodes[item.producers[0]]
            var w = graph.constants[node.inputs[1]]!
            // Conv weights are OIHW and a transB Gemm's are (out, in): the flat order is the
            // filters' order, which the tie rule (lower index first) follows.
            var rowsAreFilters = false
            if case .conv = node.op { rowsAreFilters = true }
            if case .gemm(_, _, _, true) = node.op { rowsAreFilters = true }
            XCTAssertTrue(rowsAreFilters, "\(node.name): this test covers Conv and transB Gemm")
            let k = Int((Double(level) * Double(w.count)).rounded(.down))
            let order = w.storage.indices.sorted { abs(w.storage[$0]) != abs(w.storage[$1]) ? abs(w.storage[$0]) < abs(w.storage[$1]) : $0 < $1 }
            for i in order.prefix(k) { w.storage[i] = 0 }
            g.constants[node.inputs[1]] = w
            return g
        }
    }

    func testTensorItemsZeroTheirTensor() throws {
        var options = ProfileOptions()
        options.kinds = [.tensor]
        try check("models/tiny_resnet.onnx", input: "models/tiny_resnet.input.npy", options: options) { item, _, graph in
            var g = graph
            let name = String(item.id.dropFirst("tensor:".count))
            let v = graph.values.indices.first { graph.values[$0].name == name && graph.constants[ValueID($0)] != nil }!
            var t = graph.constants[ValueID(v)]!
            t.storage = t.storage.map { _ in 0 }
            g.constants[ValueID(v)] = t
            return g
        }
    }
}

/// `--quantize-target activations|both`: each layer's output rounded to B-bit unsigned integers
/// with the scale and zero point onnxruntime derives from the calibration set's min and max —
/// checked against a copy of the graph with a rounding node written here from those two numbers.
final class ActivationQuantizationTests: XCTestCase {
    func testRoundedOutputsMatchAHandBuiltGraph() throws {
        let graph = try ProfileFixtures.graph("models/tiny_resnet.onnx")
        let all = try ProfileFixtures.tensor("models/tiny_resnet.input.npy")
        let per = all.count / all.shape[0]
        let calibration = Tensor(shape: [2] + all.shape.dropFirst(), storage: Array(all.storage[0 ..< 2 * per]))
        let x = Tensor(shape: [all.shape[0] - 2] + all.shape.dropFirst(), storage: Array(all.storage[2 * per ..< all.count]))
        for target in [QuantizeTarget.activations, .both] {
            var options = ProfileOptions()
            options.kinds = [.layer]
            options.perturbation = .quantize([8, 4])
            options.quantizeTarget = target
            options.threads = 2
            let profiler = try Profiler(graph: graph, options: options)
            try profiler.calibrateActivations([calibration])
            let cache = try profiler.cache(input: x)
            let calibrationCache = try profiler.cache(input: calibration)
            let baseline = Baseline(logits: cache.logits.storage, count: x.shape[0], labels: nil, kind: profiler.outputKind)
            var checked = 0
            for item in profiler.items.prefix(6) {
                let end = profiler.tailEnds.first { $0.producer == item.producers[0] }!.value
                // The calibrated range is the calibration activations' min and max (to the last few
                // ulps: the calibration pass may fuse kernels differently from a profile's cache).
                let seen = calibrationCache.values[end]!.storage
                let calibrated = try XCTUnwrap(profiler.activationRanges[end])
                XCTAssertEqual(calibrated.0, seen.min()!, accuracy: 1e-5 * abs(seen.min()!) + 1e-7, "\(item.id): calibrated minimum")
                XCTAssertEqual(calibrated.1, seen.max()!, accuracy: 1e-5 * abs(seen.max()!) + 1e-7, "\(item.id): calibrated maximum")
                let (rmin, rmax) = (Double(min(calibrated.0, 0)), Double(max(calibrated.1, 0)))
                for bits in [8, 4] {
                    let qmax = Double((1 << bits) - 1)
                    let scale = Float((rmax - rmin) / qmax)
                    let zero = Float((-rmin / ((rmax - rmin) / qmax)).rounded(.toNearestOrEven))
                    var g = graph
                    if target == .both {
                        let node = g.nodes[item.producers[0]]
                        g.constants[node.inputs[1]] = QuantizedWeights(g.constants[node.inputs[1]]!, bits: bits, axis: 0).dequantized
                    }
                    let rounded = g.values.count
                    g.values.append(Value(name: "rounded"))
                    for i in g.nodes.indices { g.nodes[i].inputs = g.nodes[i].inputs.map { $0 == end ? rounded : $0 } }
                    g.outputs = g.outputs.map { $0 == end ? rounded : $0 }
                    let producer = g.nodes.firstIndex { $0.outputs.contains(end) }!
                    let f = FakeQuantization(scale: scale, zeroPoint: zero, dequantizeScale: scale, dequantizeZeroPoint: zero, lowest: 0, highest: Float(qmax))
                    g.nodes.insert(Node(name: "round", op: .fakeQuantize(f), inputs: [end], outputs: [rounded]), at: producer + 1)
                    let slow = baseline.compare(try ExecutionPlan(graph: g, options: ExecutionOptions(threads: 2, fuse: false)).run(x)[0].storage).means[.kl]!
                    let fast = baseline.compare(try profiler.perturbedLogits(item, level: Float(bits), cache: cache).storage).means[.kl]!
                    XCTAssertGreaterThan(slow, 0, "\(item.id) at \(bits) bits")
                    // The unfused whole-graph pass computes the cached tail ends to the bit, so
                    // rounding the activations alone agrees to 1e-6. With the weights too, the
                    // profiler adds conv(x, ΔW) to the cached output instead of convolving again:
                    // values an ulp apart can round a whole step apart. Seen: ≤ 0.36% with direct
                    // convolutions, 2.4% since the 3×3 convolutions run as Winograd (whose rounding
                    // noise is ~10× larger, so ~10× the values land on the other side of a step).
                    let tolerance = target == .activations ? 1e-6 : 5e-2
                    XCTAssertEqual(fast, slow, accuracy: max(1e-9, tolerance * slow), "\(target) \(item.id) at \(bits) bits")
                    checked += 1
                }
            }
            XCTAssertEqual(checked, 12)
        }
    }
}
