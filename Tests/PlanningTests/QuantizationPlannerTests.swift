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

    /// The float rung: at the bits of uniform int8, a small layer whose 8-bit damage is large
    /// stays float, paid for by large harmless layers at fewer bits; without the rung nothing
    /// moves. The plan meets the target, no single undo of a layer's last move would still meet
    /// it with less damage (the give-back), and the bytes count the float layer at 4 per weight.
    func testFloatRungKeepsASensitiveLayerFloatAtTheInt8Budget() throws {
        let graph = try Importer.importGraph(try ONNXModel.load(path: FixturePaths.path("models/tiny_mobilenet.onnx")))
        let layers = QuantizableLayer.all(in: graph)
        let small = layers.min { $0.params < $1.params }!
        var damage: [String: [Int: Double]] = [:]
        for l in layers { damage[l.name] = l.name == small.name ? [8: 1, 4: 2, 2: 3] : [8: 0.001, 4: 0.002, 2: 0.5] }
        let measured = try QuantizationSensitivity.measured(report: report(damage), graph: graph, granularity: .channel)
        let table = measured.withFloatRung()
        XCTAssertEqual(table.ladder, [32, 8, 4, 2])
        let budget = QuantizationBudget(layers: table.layers, totalParams: try graph.cost(batch: 1).params)
        let int8 = Dictionary(uniqueKeysWithValues: layers.map { ($0.name, 8) })
        let rung = try QuantizationPlanner(table: table, budget: budget, target: .size(budget.bytes(int8)), limits: PlanLimits(), measure: nil).plan()
        XCTAssertEqual(rung.bits[small.name], 32, "the sensitive layer stays float")
        XCTAssertTrue(rung.bits.values.contains { $0 < 8 }, "paid for by layers below 8 bits: \(rung.bits)")
        XCTAssertLessThanOrEqual(rung.bytesAfter, budget.bytes(int8))
        XCTAssertLessThan(rung.figures.predicted?["kl"] ?? .infinity, 1, "less predicted damage than uniform int8 (1 + …)")
        let plain = try QuantizationPlanner(table: measured, budget: budget, target: .size(budget.bytes(int8)), limits: PlanLimits(), measure: nil).plan()
        XCTAssertEqual(plain.bits, int8, "without the rung the int8 budget is uniform int8")
        XCTAssertGreaterThan(plain.figures.predicted?["kl"] ?? 0, 1)
        // Give-back: no layer's last move can be undone within the target for less damage.
        let byName = Dictionary(uniqueKeysWithValues: table.layers.map { ($0.name, $0) })
        for (name, bits) in rung.bits where bits != 32 {
            let up = table.ladder[table.ladder.firstIndex(of: bits)! - 1]
            var probe = rung.bits
            probe[name] = up
            if budget.bytes(probe) <= budget.bytes(int8) {
                XCTAssertLessThanOrEqual(byName[name]!.damage[bits]! - byName[name]!.damage[up]!, 0, "\(name) at \(bits) could go back to \(up)")
            }
        }
        // Bytes: float32 for every parameter, except quantized weights packed plus 5 bytes per scale; the float layer has none.
        var expected = budget.totalParams * 4
        for l in layers where rung.bits[l.name]! < 32 {
            expected += (l.params * rung.bits[l.name]! + 7) / 8 + 5 * graph.constants[l.weight]!.shape[l.axis] - 4 * l.params
        }
        XCTAssertEqual(rung.bytesAfter, expected)
        var stored = budget.totalParams * 4
        for l in layers where rung.bits[l.name]! < 32 { stored += l.params + 5 * graph.constants[l.weight]!.shape[l.axis] - 4 * l.params }
        XCTAssertEqual(budget.storedBytes(rung.bits, opset: 13), stored)
        XCTAssertEqual(budget.averageBits(rung.bits), rung.bitsAfter)
        XCTAssertEqual(budget.averageBits([small.name: 32]), 32, "a float-rung layer counts 32 bits, as an unplanned one")
    }

    /// `--float-rung` with quantized activations and `--calibration measured`, through the library:
    /// the float layer's output is still quantized; each activation's calibrator is the one whose
    /// range, alone in the float model, gives the least KL (recomputed here with QuantizedGraph);
    /// the plan reads back equal; and `QuantizeRun` writes the float layer unquantized, uses each
    /// recorded calibrator, passes its bit-exact read-back and gives the plan's measured KL.
    func testFloatRungAndMeasuredCalibrationAreRecordedAndExported() throws {
        let s = try PlannerTests.setup("models/tiny_mobilenet.onnx", input: "models/tiny_mobilenet.input.npy", count: 4)
        let layers = QuantizableLayer.all(in: s.graph)
        let small = layers.min { $0.params < $1.params }!
        var damage: [String: [Int: Double]] = [:]
        for l in layers { damage[l.name] = l.name == small.name ? [8: 1, 4: 2, 2: 3] : [8: 0.001, 4: 0.002, 2: 0.5] }
        var request = PlanRequest()
        request.quantize = true
        request.floatRung = true
        request.target = .quantization(.bits(8))
        request.quantizeActivations = 8
        request.calibration = .measured
        request.threads = 2
        request.data = "inputs"
        XCTAssertNoThrow(try request.validate())
        let run = try PlanRun(request: request, model: s.onnx, graph: s.graph, inputShape: nil, modelPath: "model")
        var lines: [String] = []
        let (result, plan) = try run.runQuantization(report: report(damage), reportPath: "r.json", modelObject: .object([:]),
                                                      batches: s.inputs.map { ($0, nil) }, calibration: s.inputs, progress: { lines.append($0) })
        XCTAssertTrue(result.figures.targetMet)
        let float = try XCTUnwrap(plan.layers.first { $0.name == small.name })
        XCTAssertEqual(float.bits, 32)
        XCTAssertNotNil(float.activation, "a float-rung layer's output is quantized")
        XCTAssertEqual(plan.calibration, .measured)
        XCTAssertTrue(plan.layers.allSatisfy { $0.activation != nil }, "every measured layer's output is quantized")
        let assignment = plan.assignment
        XCTAssertEqual(assignment.floatLayers, [small.name])
        XCTAssertNil(assignment.weightBits[small.name])
        XCTAssertEqual(try QuantizationPlan(json: plan.json), plan)
        XCTAssertEqual(try QuantizationPlan.assignment(of: plan.json), assignment)
        XCTAssertTrue(lines.contains { $0.hasPrefix("calibration measured: ") }, "\(lines)")

        // The choice, recomputed: each activation alone, quantized at each method's range, in the float model.
        let original = try ExecutionPlan(graph: s.graph, options: ExecutionOptions(threads: 2)).run(s.inputs[0])[0]
        let baseline = Baseline(logits: original.storage, count: s.inputs[0].shape[0], labels: nil, kind: .logits)
        let activations = try QuantizedGraph.activationLayers(s.graph, assignment: assignment)
        XCTAssertEqual(activations.count, try s.graph.channelTails().filter { t in layers.contains { $0.node == t.producer } }.count)
        for (value, owners) in activations {
            var kl: [CalibrationMethod: Double] = [:]
            for method in CalibrationMethod.allCases {
                let alone = QuantizationAssignment(weightBits: [:], activationBits: 8, calibration: method, floatLayers: Set(owners))
                let ranges = try QuantizedGraph.calibrate(s.graph, assignment: alone, batches: s.inputs, threads: 2)
                let g = try QuantizedGraph.build(s.graph, assignment: alone, ranges: ranges)
                let out = try ExecutionPlan(graph: g, options: ExecutionOptions(threads: 2)).run(s.inputs[0])[0]
                kl[method] = baseline.compare(out.storage).means[.kl]!
            }
            let chosen = try XCTUnwrap(plan.layers.first { $0.name == owners[0] }?.activation)
            let least = kl.values.min()!
            XCTAssertLessThanOrEqual(kl[chosen]!, least + 1e-9 + 1e-6 * least, "\(s.graph.values[value].name): chose \(chosen) with \(kl)")
        }

        // Export: the float layer's weight stays a float initializer, the rest are int8; every activation by its recorded method.
        let exported = try QuantizeRun.run(model: s.onnx, graph: s.graph, assignment: assignment, calibration: s.inputs, check: nil, threads: 2,
                                           importOptions: ImportOptions())
        XCTAssertFalse(exported.weights.contains { $0.layer.name == small.name })
        XCTAssertEqual(exported.weights.count, layers.count - 1)
        XCTAssertEqual(exported.activations.count, activations.count)
        let weightName = s.graph.values[small.weight].name
        let stored = try XCTUnwrap(exported.model.graph.initializers.first { $0.name == weightName })
        XCTAssertEqual(stored.dataType, .float)
        XCTAssertFalse(exported.model.graph.nodes.contains { $0.opType == "DequantizeLinear" && $0.outputs == [weightName] })
        let methods = try QuantizedGraph.calibrationMethods(s.graph, assignment: assignment)
        for (value, owners) in activations {
            XCTAssertEqual(methods[value], plan.layers.first { $0.name == owners[0] }?.activation)
            let range = try QuantizedGraph.calibrate(s.graph, values: [value], method: methods[value]!, batches: s.inputs, threads: 2)[value]!
            let expected = ActivationQuantizer.fakeQuantization(range: range, bits: 8)
            let name = s.graph.values[value].name
            let node = try XCTUnwrap(exported.imported.nodes.first { n in n.outputs.contains { exported.imported.values[$0].name == name } })
            guard case .fakeQuantize(let f) = node.op else { return XCTFail("\(name): not a QuantizeLinear → DequantizeLinear pair: \(node.op)") }
            XCTAssertEqual(f, expected, name)
        }
        let logits = try ExecutionPlan(graph: exported.imported, options: ExecutionOptions(threads: 2)).run(s.inputs[0])[0]
        XCTAssertEqual(baseline.compare(logits.storage).means[.kl]!, result.figures.measured?["kl"] ?? -1, accuracy: 1e-9)
    }
}
