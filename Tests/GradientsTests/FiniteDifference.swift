import Foundation
import Gradients
import Influence
import NetworkIR
import Support
import XCTest

/// Builds small graphs node by node for the operator tests.
struct GraphBuilder {
    var values: [Value] = []
    var nodes: [Node] = []
    var constants: [ValueID: Tensor] = [:]
    let inputShape: [Int]

    init(inputShape: [Int]) {
        self.inputShape = inputShape
        values.append(Value(name: "x"))
    }

    var input: ValueID { 0 }

    mutating func constant(_ t: Tensor) -> ValueID {
        values.append(Value(name: "c\(values.count)"))
        constants[values.count - 1] = t
        return values.count - 1
    }

    mutating func node(_ op: Operator, _ inputs: [ValueID]) -> ValueID {
        values.append(Value(name: "v\(values.count)"))
        nodes.append(Node(name: "n\(nodes.count)", op: op, inputs: inputs, outputs: [values.count - 1]))
        return values.count - 1
    }

    func graph(output: ValueID) -> Graph {
        Graph(values: values, nodes: nodes, constants: constants,
              inputs: [GraphInput(value: 0, sampleShape: Array(inputShape.dropFirst()), layout: .nchw)],
              outputs: [output], opset: 17)
    }
}

/// Seeded test data, from the profiler's generator (Influence's SplitMix64).
struct SeededValues {
    var generator: SplitMix64
    init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    mutating func next() -> UInt64 { generator.next() }

    /// Uniform in [lo, hi).
    mutating func uniform(_ lo: Float, _ hi: Float) -> Float {
        lo + (hi - lo) * Float(Double(next() >> 11) / Double(1 << 53))
    }

    mutating func tensor(_ shape: [Int], _ lo: Float = -1, _ hi: Float = 1) -> Tensor {
        Tensor(shape: shape, storage: (0..<shape.reduce(1, *)).map { _ in uniform(lo, hi) })
    }

    /// Distinct values `spacing` apart in random order: no near-ties for max pooling, and no value
    /// within spacing/2 of a kink placed at a multiple of `spacing` plus `offset`.
    mutating func separated(_ shape: [Int], spacing: Float, offset: Float) -> Tensor {
        let count = shape.reduce(1, *)
        var order = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, Int(next() % UInt64(i + 1))) }
        return Tensor(shape: shape, storage: order.map { Float($0 - count / 2) * spacing + offset })
    }
}

/// Checks analytic gradients against central differences of L = Σ r·y (r fixed and random), for
/// the input and every constant in `constants` (all differentiable constants when nil).
enum FiniteDifference {
    struct Outcome { var worst: Double; var compared: Int }

    static func loss(_ graph: Graph, _ input: Tensor, _ r: Tensor, _ mode: BatchNormMode) throws -> Double {
        let record = try GraphGradients(graph: graph, threads: 1, batchNormMode: mode).forward(input)
        let y = record.output(of: graph)!
        return zip(y.storage, r.storage).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    @discardableResult
    static func check(_ graph: Graph, input: Tensor, step: Float = 1e-2, tolerance: Double = 1e-2,
                      skip: Set<ValueID> = [], batchNormMode mode: BatchNormMode = .frozen,
                      file: StaticString = #filePath, line: UInt = #line) throws -> Outcome {
        let engine = try GraphGradients(graph: graph, threads: 1, batchNormMode: mode)
        let record = try engine.forward(input)
        let y = record.output(of: graph)!
        var values = SeededValues(seed: 99)
        let r = values.tensor(y.shape)
        let result = try engine.backward(record, outputGradient: r)
        var worst = 0.0, compared = 0
        func compare(_ analytic: Tensor?, _ count: Int, what: String, perturbed: (Int, Float) throws -> Double) throws {
            let analytic = try XCTUnwrap(analytic, "no gradient for \(what)", file: file, line: line)
            XCTAssertEqual(analytic.count, count, what, file: file, line: line)
            let peak = max(analytic.storage.map { abs(Double($0)) }.max() ?? 0, 1e-3)
            for i in 0..<count {
                let numeric = (try perturbed(i, step) - perturbed(i, -step)) / (2 * Double(step))
                let error = abs(numeric - Double(analytic.storage[i])) / peak
                worst = max(worst, error)
                compared += 1
                if error > tolerance {
                    XCTFail("\(what)[\(i)]: analytic \(analytic.storage[i]), numeric \(numeric) (error \(error) of peak \(peak))", file: file, line: line)
                    return
                }
            }
        }
        try compare(result.input, input.count, what: "input") { i, h in
            var x = input
            x.storage[i] += h
            return try loss(graph, x, r, mode)
        }
        for (id, c) in graph.constants.sorted(by: { $0.key < $1.key }) where !skip.contains(id) {
            try compare(result.constants[id], c.count, what: graph.values[id].name) { i, h in
                var g = graph
                g.constants[id]!.storage[i] += h
                return try loss(g, input, r, mode)
            }
        }
        XCTAssertGreaterThan(compared, 0, file: file, line: line)
        return Outcome(worst: worst, compared: compared)
    }
}
