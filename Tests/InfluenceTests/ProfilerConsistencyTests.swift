import ChannelGroups
import Execution
import Foundation
import Influence
import NetworkIR
import Support
import TestSupport
import XCTest

/// The profiler's shortcuts (cached activations, downstream cones) against the obvious method:
/// a full forward pass with the channel zeroed, on the reference kernels.
final class ProfilerConsistencyTests: XCTestCase {
    func testConeRunsEqualFullReruns() throws {
        let graph = try ProfileFixtures.graph("models/tiny_mobilenet.onnx")
        let x = try ProfileFixtures.tensor("models/tiny_mobilenet.input.npy")
        var options = ProfileOptions()
        options.threads = 2
        let profiler = try Profiler(graph: graph, options: options)
        let cache = try profiler.cache(input: x)
        let tails = try graph.channelTails()
        let reference = try ExecutionPlan(graph: graph, options: ExecutionOptions(threads: 2, fuse: false, useReferenceKernels: true))
        var checked = 0
        for item in profiler.items where item.channel! % 7 == 0 {
            let fast = try profiler.perturbedLogits(item, level: 1, cache: cache)
            let tail = tails.first { $0.producer == item.producers[0] }!
            let c = item.channel!
            let full = try reference.run(known: [graph.inputs[0].value: x], outputs: graph.outputs,
                                         interventions: [tail.end: { t in
                                             let inner = t.shape.count > 2 ? t.shape[2...].reduce(1, *) : 1
                                             for n in 0..<t.shape[0] { for i in 0..<inner { t.storage[(n * t.shape[1] + c) * inner + i] = 0 } }
                                         }])[graph.outputs[0]]!
            if let m = mismatch(fast.storage, full.storage, .relativeToPeak(1e-4)) { XCTFail("\(item.id): \(m)") }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 20)
    }

    func testSameSeedGivesIdenticalReports() throws {
        let graph = try ProfileFixtures.graph("models/tiny_resnet.onnx")
        let x = try ProfileFixtures.tensor("models/tiny_resnet.input.npy")
        var options = ProfileOptions()
        options.kinds = [.channel, .group]
        options.batchSize = 3
        let a = try ProfileFixtures.report(graph: graph, input: x, options: options).rendered()
        let b = try ProfileFixtures.report(graph: graph, input: x, options: options).rendered()
        XCTAssertEqual(a, b)
        XCTAssertTrue(a.contains("\"schema\": \"weakspot.report/1\""))
    }

    func testShardsMergeIntoTheSingleRunReport() throws {
        let graph = try ProfileFixtures.graph("models/tiny_concat.onnx")
        let x = try ProfileFixtures.tensor("models/tiny_concat.input.npy")
        var options = ProfileOptions()
        options.kinds = [.channel, .group]
        let whole = try ProfileFixtures.report(graph: graph, input: x, options: options)
        var shards: [(path: String, report: JSONValue)] = []
        for i in 1...3 {
            var o = options
            o.shard = try Shard(index: i, count: 3)
            let text = try ProfileFixtures.report(graph: graph, input: x, options: o).rendered()
            shards.append(("shard\(i).json", try JSONValue.parse(text)))
        }
        let merged = try ProfileReport.merge(shards)
        try SchemaCheck.validate(merged)
        func withoutTiming(_ v: JSONValue) -> String {
            guard case .object(var o) = v else { return "" }
            o["timing"] = nil
            return JSONValue.object(o).rendered()
        }
        XCTAssertEqual(withoutTiming(merged), withoutTiming(try JSONValue.parse(whole.rendered())))
        XCTAssertThrowsError(try ProfileReport.merge(Array(shards.prefix(2))))
        XCTAssertThrowsError(try ProfileReport.merge(shards + [shards[0]]))
    }

    func testResumedCheckpointGivesTheUninterruptedReport() throws {
        let graph = try ProfileFixtures.graph("models/tiny_resnet.onnx")
        let x = try ProfileFixtures.tensor("models/tiny_resnet.input.npy")
        var options = ProfileOptions()
        options.batchSize = 2
        let whole = try ProfileFixtures.report(graph: graph, input: x, options: options).rendered()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ws-resume-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let checkpoint = dir.appendingPathComponent("profile.ckpt").path
        // A run that stops after the first batch: only that batch's inputs are given.
        _ = try ProfileFixtures.report(graph: graph, input: ProfileFixtures.batches(x, size: 2)[0], options: options, checkpoint: checkpoint)
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint))
        let resumed = try ProfileFixtures.report(graph: graph, input: x, options: options, checkpoint: checkpoint, resume: true).rendered()
        XCTAssertEqual(resumed, whole)
    }

    func testResidualGroupsTieTheStream() throws {
        let graph = try ProfileFixtures.graph("models/resnet18_bn.onnx")
        let analysis = try DependencyAnalysis(graph: graph)
        let tails = try graph.channelTails()
        let convChannels = tails.filter { graph.nodes[$0.producer].op.onnxName == "Conv" }.reduce(0) { $0 + $1.channels }
        XCTAssertEqual(convChannels, 4800)
        let convGroups = analysis.groups.filter { $0.members.allSatisfy { graph.nodes[$0.producer].op.onnxName == "Conv" } }
        // Torch-Pruning's DepGraph gives 2,880 groups for resnet18's convolutions.
        XCTAssertEqual(convGroups.count, 2880)
        // layer1's stream ties the stem and both blocks' second convolutions.
        XCTAssertEqual(analysis.groups.map(\.members.count).max(), 3)
        let members = analysis.groups.flatMap(\.members)
        XCTAssertEqual(members.count, Set(members).count)
        XCTAssertEqual(members.count, tails.reduce(0) { $0 + $1.channels })
    }
}
