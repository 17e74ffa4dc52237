import ChannelGroups
import Execution
import Foundation
import Influence
import NetworkIR
import Support
import TestSupport
import XCTest

/// Channel ablation against an independent computation: ONNX Runtime on graphs edited by
/// Fixtures/scripts/make_ablation_fixtures.py (masks inserted after the tail end, or on the raw
/// output). Per channel: kl and mse within 1e-3 relative (or 1e-6 absolute), top1 equal.
final class AblationReferenceTests: XCTestCase {
    func load(_ file: String) throws -> JSONValue {
        try JSONValue.parse(String(contentsOfFile: FixturePaths.path("ablation/\(file)"), encoding: .utf8))
    }

    func agree(_ ours: Double, _ reference: Double) -> Bool {
        abs(ours - reference) <= max(1e-6, 1e-3 * abs(reference))
    }

    /// Measures `(producer, channels)` in `mode` and returns the mean metrics.
    func measure(_ profiler: Profiler, cache: Profiler.BatchCache, producer: String, channels: [Int], level: Float = 1) throws -> [MetricName: Double] {
        let node = try XCTUnwrap(profiler.graph.node(named: producer), "no node \(producer)")
        var item = try XCTUnwrap(profiler.allItems.first { $0.producers == [node] })
        item.producerChannels = [channels]
        let logits = try profiler.perturbedLogits(item, level: level, cache: cache)
        let baseline = Baseline(logits: cache.logits.storage, count: cache.batch, labels: nil, kind: profiler.outputKind)
        return baseline.compare(logits.storage).means
    }

    func checkCases(_ file: String, modes: [AblationPoint] = AblationPoint.allCases) throws {
        let fixture = try load(file)
        let graph = try ProfileFixtures.graph(try XCTUnwrap(fixture["model"]?.stringValue))
        let x = try ProfileFixtures.tensor(try XCTUnwrap(fixture["inputs"]?.stringValue))
        var compared = 0
        for mode in modes {
            var options = ProfileOptions()
            options.ablateAt = mode
            options.threads = 2
            let profiler = try Profiler(graph: graph, options: options)
            let cache = try profiler.cache(input: x)
            let tails = try graph.channelTails()
            for c in fixture["cases"]?.arrayValue ?? [] where c["mode"]?.stringValue == mode.rawValue {
                let producer = try XCTUnwrap(c["producer"]?.stringValue)
                let tail = try XCTUnwrap(tails.first { graph.nodes[$0.producer].name == producer })
                XCTAssertEqual(graph.values[tail.end].name, c["tailEnd"]?.stringValue, "\(file) \(producer): tail end")
                let m = try measure(profiler, cache: cache, producer: producer, channels: [try XCTUnwrap(c["channel"]?.intValue)])
                let label = "\(file) \(producer)#\(c["channel"]!.intValue!) \(mode)"
                for metric in [MetricName.kl, .mse] {
                    let reference = try XCTUnwrap(c[metric.rawValue]?.doubleValue)
                    XCTAssertTrue(agree(m[metric]!, reference), "\(label) \(metric): ours \(m[metric]!), ONNX Runtime \(reference)")
                }
                XCTAssertEqual(m[.top1]!, try XCTUnwrap(c["top1"]?.doubleValue), "\(label) top1")
                compared += 1
            }
        }
        XCTAssertGreaterThanOrEqual(compared, 20, "\(file): too few cases compared")
    }

    func testResNet18BothAblationPoints() throws { try checkCases("resnet18_bn.json") }
    func testMobileNetV2() throws { try checkCases("mobilenet_v2.json") }
    func testEfficientNetLite0BothAblationPoints() throws { try checkCases("efficientnet_lite0.json") }
    func testTinyResNet() throws { try checkCases("tiny_resnet.json") }
    func testTailRulesModel() throws { try checkCases("tail_rules.json") }

    /// A group on a residual stream equals zeroing that channel in every tensor of the stream.
    func testResidualStreamGroupEqualsZeroingTheStream() throws {
        let fixture = try load("tiny_resnet.json")
        let graph = try ProfileFixtures.graph("models/tiny_resnet.onnx")
        let x = try ProfileFixtures.tensor("models/tiny_resnet.input.npy")
        var options = ProfileOptions()
        options.kinds = [.group]
        let profiler = try Profiler(graph: graph, options: options)
        let cache = try profiler.cache(input: x)
        let baseline = Baseline(logits: cache.logits.storage, count: cache.batch, labels: nil, kind: profiler.outputKind)
        let groups = try XCTUnwrap(fixture["groups"]?.arrayValue)
        XCTAssertFalse(groups.isEmpty)
        for g in groups {
            let channel = try XCTUnwrap(g["channel"]?.intValue)
            let producers = Set((g["members"]?.arrayValue ?? []).compactMap { $0["producer"]?.stringValue })
            let item = try XCTUnwrap(profiler.allItems.first { item in
                Set(item.producers.map { graph.nodes[$0].name }) == producers && item.producerChannels.allSatisfy { $0 == [channel] }
            }, "our groups have no item for \(producers) channel \(channel)")
            let m = baseline.compare(try profiler.perturbedLogits(item, level: 1, cache: cache).storage).means
            for metric in [MetricName.kl, .mse] {
                let stream = try XCTUnwrap(g["viaStream"]?[metric.rawValue]?.doubleValue)
                XCTAssertTrue(agree(m[metric]!, stream), "group \(item.id) \(metric): ours \(m[metric]!), stream-zeroed \(stream)")
            }
        }
    }

    /// A layer prune sweep removes the same filters as an L1-filter sweep done by editing weights,
    /// and measures what masking them at the tail end measures.
    func testLayerPruneSweepMatchesL1FilterSweep() throws {
        let fixture = try load("tiny_resnet.json")
        let graph = try ProfileFixtures.graph("models/tiny_resnet.onnx")
        let x = try ProfileFixtures.tensor("models/tiny_resnet.input.npy")
        var options = ProfileOptions()
        options.kinds = [.layer]
        options.perturbation = .prune([0.25, 0.5, 0.75])
        let profiler = try Profiler(graph: graph, options: options)
        let cache = try profiler.cache(input: x)
        let baseline = Baseline(logits: cache.logits.storage, count: cache.batch, labels: nil, kind: profiler.outputKind)
        let sweeps = try XCTUnwrap(fixture["sweeps"]?.arrayValue)
        XCTAssertEqual(sweeps.count, 6)
        for s in sweeps {
            let producer = try XCTUnwrap(s["producer"]?.stringValue)
            let item = try XCTUnwrap(profiler.allItems.first { graph.nodes[$0.producers[0]].name == producer })
            let level = Float(try XCTUnwrap(s["sparsity"]?.doubleValue))
            let m = baseline.compare(try profiler.perturbedLogits(item, level: level, cache: cache).storage).means
            for metric in [MetricName.kl, .mse] {
                let reference = try XCTUnwrap(s["tailMasked"]?[metric.rawValue]?.doubleValue)
                XCTAssertTrue(agree(m[metric]!, reference), "\(producer) at \(level) \(metric): ours \(m[metric]!), reference \(reference)")
            }
        }
    }
}
