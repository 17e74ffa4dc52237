import ChannelGroups
import DataInput
import Execution
import Foundation
import Influence
import NetworkIR
import ONNXFormat
import Planning
import Pruning
import TestSupport
import XCTest

/// The planner on real models: targets met as counted on the physically pruned model, pruned
/// outputs equal to the masked model's, constraints and limits respected.
final class PlannerTests: XCTestCase {
    struct Setup {
        var onnx: ONNXModel
        var graph: Graph
        var discovery: ItemDiscovery
        var layerGroups: [LayerGroup]
        var verifier: PlanVerifier
        var inputs: [Tensor]

        func planner(_ options: PlanOptions) throws -> Planner {
            var request = PlanRequest()
            request.plan = options
            request.target = options.target
            request.threads = options.threads
            return try PlanRun(request: request, model: onnx, graph: graph, inputShape: nil, modelPath: "model").planner(report: nil, verifier: verifier)
        }

        func pruned(_ removed: Set<Int>) throws -> Graph {
            let model = try ChannelPruner(model: onnx, graph: graph, analysis: discovery.dependencies).pruned(removing: removed)
            // Through the bytes, as `weakspot prune` writes them.
            return try Importer.importGraph(try ONNXModel.decode(model.encoded(), externalDataDirectory: nil))
        }
    }

    static func setup(_ model: String, input: String, count: Int = 2) throws -> Setup {
        let onnx = try ONNXModel.load(path: FixturePaths.path(model))
        let graph = try Importer.importGraph(onnx)
        let discovery = try ItemDiscovery(graph: graph)
        let all = try NPYArray.read(path: FixturePaths.path(input))
        let n = min(count, all.shape[0]), per = all.shape.dropFirst().reduce(1, *)
        let x = Tensor(shape: [n] + all.shape.dropFirst(), storage: Array(all.floats()[0 ..< n * per]))
        let verifier = try PlanVerifier(graph: graph, analysis: discovery.dependencies, batches: [(x, nil)], threads: 2)
        return Setup(onnx: onnx, graph: graph, discovery: discovery, layerGroups: discovery.dependencies.layerGroups(), verifier: verifier, inputs: [x])
    }

    func checkHalfMACs(_ model: String, input: String) throws {
        let s = try Self.setup(model, input: input)
        var options = PlanOptions()
        options.target = .macs(0.5)
        options.criterion = .l1
        let result = try s.planner(options).plan()
        XCTAssertTrue(result.targetMet)
        let pruned = try s.pruned(Set(result.removed))
        let cost = try pruned.cost(batch: 1)
        XCTAssertLessThanOrEqual(Double(cost.macs), 0.5 * Double(result.before.macs), "\(model): MACs after pruning")
        XCTAssertEqual(cost.macs, result.after.macs)
        XCTAssertEqual(cost.params, result.after.params)
        let masked = try s.verifier.maskedLogits(removing: Set(result.removed))[0]
        let plan = try ExecutionPlan(graph: pruned, options: ExecutionOptions(threads: 2))
        let out = try plan.run(s.inputs[0])[0]
        if let problem = mismatch(out.storage, masked.storage, .relativeToPeak(1e-4)) { XCTFail("\(model): pruned vs masked: \(problem)") }
        XCTAssertNotNil(result.measured?["kl"])
    }

    func testResNet18HalfMACs() throws { try checkHalfMACs("models/resnet18_bn.onnx", input: "models/resnet18_bn.input.npy") }
    func testMobileNetV2HalfMACs() throws { try checkHalfMACs("models/mobilenet_v2.onnx", input: "models/mobilenet_v2.input.npy") }
    func testEfficientNetLite0HalfMACs() throws { try checkHalfMACs("demo/efficientnet_lite0.onnx", input: "demo/images.input.npy") }

    func testConstraintsHold() throws {
        let s = try Self.setup("models/resnet18_bn.onnx", input: "models/resnet18_bn.input.npy", count: 1)
        var options = PlanOptions()
        options.target = .macs(0.3)
        options.criterion = .l2
        options.minChannels = 24
        options.maxLayerSparsity = 0.5
        options.roundTo = 8
        options.keep = ["/layer4/*"]
        // 0.3 cannot be reached with half of each layer kept: refused, naming the best fraction;
        // planning just above it removes all that the constraints allow, which must still hold them.
        var best = 0.0
        XCTAssertThrowsError(try s.planner(options).plan()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("--target macs=0.3: cannot be reached"), text)
            if let range = text.range(of: #"keeps 0\.\d{4} at best"#, options: .regularExpression) {
                best = Double(text[range].dropFirst("keeps ".count).prefix(6)) ?? 0
            }
        }
        XCTAssertGreaterThan(best, 0.3)
        options.target = .macs(best + 0.0001)
        let result = try s.planner(options).plan()
        XCTAssertTrue(result.targetMet)
        let removed = Set(result.removed)
        let groups = s.discovery.dependencies.groups
        var lost: [Int: Int] = [:]
        for g in removed { for p in Set(groups[g].members.map(\.producer)) { lost[p, default: 0] += 1 } }
        for t in s.discovery.tails {
            let kept = t.channels - lost[t.producer, default: 0]
            let name = s.graph.nodes[t.producer].name
            XCTAssertGreaterThanOrEqual(kept, 24, name)
            XCTAssertGreaterThanOrEqual(Double(kept), 0.5 * Double(t.channels), name)
            if name.hasPrefix("/layer4/") { XCTAssertEqual(lost[t.producer, default: 0], 0, name) }
            if s.graph.nodes[t.producer].inputs.contains(s.graph.inputs[0].value) { XCTAssertEqual(lost[t.producer, default: 0], 0, "first layer kept") }
        }
        for lg in s.layerGroups {
            let r = lg.dependencyGroups.filter { removed.contains($0) }.count
            if r > 0 { XCTAssertEqual((lg.channels - r) % 8, 0, "layer group \(lg.id) keeps a multiple of 8") }
        }
    }

    func testLimitsMakeThePlanBackOff() throws {
        let s = try Self.setup("models/mobilenet_v2.onnx", input: "models/mobilenet_v2.input.npy")
        var options = PlanOptions()
        options.target = .macs(0.5)
        options.criterion = .l1
        let free = try s.planner(options).plan()
        let limit = (free.measured?["kl"] ?? 0) / 10
        options.limits.maxKL = limit
        let limited = try s.planner(options).plan()
        XCTAssertTrue(limited.backedOff)
        XCTAssertFalse(limited.targetMet)
        XCTAssertLessThan(limited.removed.count, free.removed.count)
        XCTAssertLessThanOrEqual(try XCTUnwrap(limited.measured?["kl"]), limit)
        XCTAssertGreaterThan(limited.after.macs, free.after.macs)
    }

    func testUniformRemovesTheSameFractionEverywhere() throws {
        let s = try Self.setup("models/resnet18_bn.onnx", input: "models/resnet18_bn.input.npy", count: 1)
        var options = PlanOptions()
        options.target = .macs(0.6)
        options.criterion = .l1
        options.uniform = true
        let result = try s.planner(options).plan()
        let removed = Set(result.removed)
        var fractions: [Double] = []
        for lg in s.layerGroups where lg.dependencyGroups.allSatisfy({ s.discovery.dependencies.groups[$0].prunable }) {
            if lg.producers.contains(where: { s.graph.nodes[$0].inputs.contains(s.graph.inputs[0].value) }) { continue }
            fractions.append(Double(lg.dependencyGroups.filter { removed.contains($0) }.count) / Double(lg.channels))
        }
        XCTAssertGreaterThan(fractions.count, 5)
        XCTAssertLessThan(fractions.max()! - fractions.min()!, 0.05, "per-layer fractions \(fractions)")
    }
}
