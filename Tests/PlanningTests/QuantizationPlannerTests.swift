import DataInput
import Execution
import Foundation
import Influence
import NetworkIR
import ONNXFormat
import Planning
import Quantization
import Support
import TestSupport
import XCTest

/// `plan --quantize` as a library call: greedy widths by damage per bit saved on a hand-made
/// table, the budget's arithmetic, and the measured damage of a plan equal to an independently
/// rounded copy of the model run whole.
final class QuantizationPlannerTests: XCTestCase {
    /// A report of three layers of tiny_mobilenet with a hand-made bits sweep (kl only matters).
    func report(_ damage: [String: [Int: Double]]) -> JSONValue {
        .object([
            "settings": .object(["perturb": "quantize:8,4,2", "metric": "kl", "quantizeGranularity": "channel"]),
            "items": .array(damage.keys.sorted().map { name in
                .object(["kind": "layer", "layer": .string(name),
                         "sweep": .array(damage[name]!.keys.sorted(by: >).map { b in
                             .object(["bits": .int(b), "kl": .double(damage[name]![b]!), "mse": 0.0, "top1": 0.0])
                         })])
            }),
        ])
    }

    func testGreedyTakesTheCheapestDamagePerBitFirst() throws {
        let graph = try Importer.importGraph(try ONNXModel.load(path: FixturePaths.path("models/tiny_mobilenet.onnx")))
        let layers = QuantizableLayer.all(in: graph)
        let (a, b, c) = (layers[1], layers[4], layers[14])
        // a: harmless to 2 bits; b: harmless to 4, ruinous at 2; c: hurt at once.
        let table = try QuantizationSensitivity.measured(report: report([a.name: [8: 0, 4: 0.001, 2: 0.002],
                                                                         b.name: [8: 0, 4: 0.001, 2: 5],
                                                                         c.name: [8: 0, 4: 3, 2: 9]]), graph: graph, granularity: .channel)
        XCTAssertEqual(table.ladder, [8, 4, 2])
        let budget = QuantizationBudget(layers: table.layers, totalParams: try graph.cost(batch: 1).params)
        // Room for exactly a and b at their cheapest: every weight of the three at 8 bits, less what a→2 and b→4 save.
        let goal = Double(8 * (a.params + b.params + c.params) - 6 * a.params - 4 * b.params) / Double(a.params + b.params + c.params)
        let planner = QuantizationPlanner(table: table, budget: budget, target: .bits(goal), limits: PlanLimits(), measure: nil)
        let moves = try planner.moves().steps
        XCTAssertEqual(Set(moves.map { "\($0.layer):\($0.to)" }), [a.name + ":4", a.name + ":2", b.name + ":4"], "\(moves)")
        let result = try planner.plan()
        XCTAssertEqual(result.bits[c.name], 8)
        XCTAssertLessThanOrEqual(result.bitsAfter, goal + 1e-9)
        XCTAssertEqual(result.figures.predicted?["kl"] ?? -1, 0.002 + 0.001 + 0, accuracy: 1e-12)
        // Bytes: every parameter as float32, less the quantized weights' 4 bytes, plus their packed bits and 5 bytes per scale.
        let scales = [a, b, c].map { graph.constants[$0.weight]!.shape[$0.axis] }
        let expected = budget.totalParams * 4 - 4 * (a.params + b.params + c.params)
            + (a.params * 2 + 7) / 8 + (b.params * 4 + 7) / 8 + (c.params * 8 + 7) / 8 + 5 * scales.reduce(0, +)
        XCTAssertEqual(result.bytesAfter, expected)
        // Out of reach: fewer bits on average than every layer at 2.
        let impossible = QuantizationPlanner(table: table, budget: budget, target: .bits(1.9), limits: PlanLimits(), measure: nil)
        XCTAssertThrowsError(try impossible.moves()) { XCTAssertTrue("\($0)".contains("out of reach"), "\($0)") }
    }

    /// The plan's measured KL is the KL of the model with each planned weight rounded here
    /// (numpy-style, per output channel), run whole against the original on the same inputs.
    func testMeasuredDamageIsTheRoundedModels() throws {
        let s = try PlannerTests.setup("models/tiny_mobilenet.onnx", input: "models/tiny_mobilenet.input.npy", count: 4)
        let layers = QuantizableLayer.all(in: s.graph)
        var damage: [String: [Int: Double]] = [:]
        for (i, l) in layers.enumerated() { damage[l.name] = [8: 0, 4: Double(i % 3) * 0.01, 2: 1 + Double(i)] }
        var request = PlanRequest()
        request.quantize = true
        request.target = .quantization(.bits(4))
        request.threads = 2
        request.data = "inputs"
        let run = try PlanRun(request: request, model: s.onnx, graph: s.graph, inputShape: nil, modelPath: "model")
        let (result, plan) = try run.runQuantization(report: report(damage), reportPath: "r.json", modelObject: .object([:]),
                                                      batches: s.inputs.map { ($0, nil) }, progress: { _ in })
        XCTAssertTrue(result.figures.targetMet)
        XCTAssertLessThanOrEqual(result.bitsAfter, 4 + 1e-9)
        XCTAssertTrue(Set(plan.layers.map(\.bits)).isSubset(of: [8, 4, 2]), "\(plan.layers.map(\.bits))")
        XCTAssertEqual(plan.layers.count, layers.count)
        var g = s.graph
        for l in plan.layers {
            let q = layers.first { $0.name == l.name }!
            var w = g.constants[q.weight]!
            let qmax = Float((1 << (l.bits - 1)) - 1)
            let rows = w.shape[0], per = w.count / rows
            XCTAssertEqual(q.axis, 0, "\(l.name): a Conv or transB Gemm")
            for r in 0..<rows {
                let filter = w.storage[r * per ..< (r + 1) * per]
                let scale = filter.map { abs($0) }.max()! / qmax
                for k in 0..<per where scale > 0 { w.storage[r * per + k] = max(-qmax, min(qmax, (w.storage[r * per + k] / scale).rounded(.toNearestOrEven))) * scale }
            }
            g.constants[q.weight] = w
        }
        let original = try ExecutionPlan(graph: s.graph, options: ExecutionOptions(threads: 2)).run(s.inputs[0])[0]
        let rounded = try ExecutionPlan(graph: g, options: ExecutionOptions(threads: 2)).run(s.inputs[0])[0]
        let baseline = Baseline(logits: original.storage, count: s.inputs[0].shape[0], labels: nil, kind: .logits)
        let kl = baseline.compare(rounded.storage).means[.kl]!
        XCTAssertGreaterThan(kl, 0)
        XCTAssertEqual(result.figures.measured?["kl"] ?? -1, kl, accuracy: 1e-9 + 1e-6 * kl)
        // Through the document and back.
        XCTAssertEqual(try QuantizationPlan(json: plan.json), plan)
    }

    func testLimitsBackOffToTheLongestPrefixWithin() throws {
        let s = try PlannerTests.setup("models/tiny_mobilenet.onnx", input: "models/tiny_mobilenet.input.npy", count: 4)
        let layers = QuantizableLayer.all(in: s.graph)
        var damage: [String: [Int: Double]] = [:]
        for (i, l) in layers.enumerated() { damage[l.name] = [8: 0, 4: 0.001 * Double(i), 2: 0.01 * Double(i + 1)] }
        var request = PlanRequest()
        request.quantize = true
        request.target = .quantization(.bits(2))
        request.plan.limits.maxKL = 0.05
        request.threads = 2
        request.data = "inputs"
        let run = try PlanRun(request: request, model: s.onnx, graph: s.graph, inputShape: nil, modelPath: "model")
        let (result, plan) = try run.runQuantization(report: report(damage), reportPath: "r.json", modelObject: .object([:]),
                                                      batches: s.inputs.map { ($0, nil) }, progress: { _ in })
        XCTAssertTrue(result.figures.backedOff)
        XCTAssertFalse(result.figures.targetMet)
        XCTAssertTrue(result.figures.limitsMet)
        XCTAssertLessThanOrEqual(result.figures.measured?["kl"] ?? .infinity, 0.05)
        XCTAssertGreaterThan(result.bitsAfter, 2)
        XCTAssertGreaterThan(result.figures.evaluations, 2, "the back-off measured probes")
        XCTAssertTrue(plan.backedOff)
    }
}
