import Foundation
import Execution
import Gradients
import Influence
import NetworkIR
import Support
import XCTest

/// Report options end to end on a small residual model: labels, quantile thresholds across
/// shards, seeded random scores, per-layer normalisation.
final class ReportOptionsTests: XCTestCase {
    func setup() throws -> (graph: Graph, x: Tensor) {
        (try ProfileFixtures.graph("models/tiny_resnet.onnx"), try ProfileFixtures.tensor("models/tiny_resnet.input.npy"))
    }

    func testLabelsGiveEachItemItsWorstClass() throws {
        let (graph, x) = try setup()
        let labels = (0..<x.shape[0]).map { $0 % 3 }
        var options = ProfileOptions()
        options.bootstrapResamples = 50
        let report = try ProfileFixtures.report(graph: graph, input: x, options: options, labels: labels)
        let items = try XCTUnwrap(report["items"]?.arrayValue)
        XCTAssertNotNil(report["baseline"]?["accuracy"])
        for item in items {
            let damage = try XCTUnwrap(item["classDamage"], "\(item["id"]?.stringValue ?? "")")
            let worst = try XCTUnwrap(damage["accDrop"]?.doubleValue), average = try XCTUnwrap(item["metrics"]?["acc"]?.doubleValue)
            // The worst class loses at least the average: the average is a weighted mean of the classes.
            XCTAssertGreaterThanOrEqual(worst + 1e-6, average)
            XCTAssertTrue((0..<3).contains(try XCTUnwrap(damage["class"]?.intValue)))
        }
    }

    func testQuantileThresholdIsTheSameMergedOrWhole() throws {
        let (graph, x) = try setup()
        var options = ProfileOptions()
        options.weakQuantile = 0.3
        options.bootstrapResamples = 50
        let whole = try ProfileFixtures.report(graph: graph, input: x, options: options)
        var shards: [(path: String, report: JSONValue)] = []
        for i in 1...3 {
            var o = options
            o.shard = try Shard(index: i, count: 3)
            shards.append(("s\(i)", try JSONValue.parse(ProfileReport.text(try ProfileFixtures.report(graph: graph, input: x, options: o)))))
        }
        let merged = try ProfileReport.merge(shards)
        try SchemaCheck.validate(merged)
        XCTAssertEqual(try JSONValue.parse(ProfileReport.text(merged))["settings"]?["weakThreshold"], try JSONValue.parse(ProfileReport.text(whole))["settings"]?["weakThreshold"])
        let items = try XCTUnwrap(whole["items"]?.arrayValue)
        let weak = items.filter { $0["weak"]?.boolValue == true }.count
        XCTAssertLessThanOrEqual(Double(weak), 0.3 * Double(items.count) + 1)
        XCTAssertEqual(whole["settings"]?["weakRule"]?.stringValue, "q:0.3")
        XCTAssertEqual(merged["items"]?.arrayValue?.map { $0["weak"] }, try JSONValue.parse(ProfileReport.text(whole))["items"]?.arrayValue?.map { $0["weak"] })
    }

    func testRandomScoresAreSeeded() throws {
        let (graph, x) = try setup()
        func scores(seed: UInt64) throws -> [Double] {
            var options = ProfileOptions()
            options.estimators = [.random]
            options.seed = seed
            options.bootstrapResamples = 10
            return try ProfileFixtures.report(graph: graph, input: x, options: options)["items"]!.arrayValue!.map { $0["estimators"]!["random"]!.doubleValue! }
        }
        let a = try scores(seed: 1), b = try scores(seed: 1), c = try scores(seed: 2)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        XCTAssertTrue(a.allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssertEqual(Set(a).count, a.count, "no repeated values")
    }

    func testNormalizeMaxGivesEachLayerAMaximumOfOne() throws {
        let (graph, x) = try setup()
        var options = ProfileOptions()
        options.kinds = [.channel, .group]
        options.estimators = [.l1]
        options.normalizer = .max
        options.bootstrapResamples = 10
        let items = try XCTUnwrap(try ProfileFixtures.report(graph: graph, input: x, options: options)["items"]?.arrayValue)
        for kind in ["channel", "group"] {
            let byLayer = Dictionary(grouping: items.filter { $0["kind"]?.stringValue == kind }) { $0["layer"]?.stringValue ?? "" }
            XCTAssertFalse(byLayer.isEmpty)
            for (layer, members) in byLayer {
                let values = members.compactMap { $0["estimators"]?["l1"]?.doubleValue }
                XCTAssertEqual(values.max() ?? 0, 1, accuracy: 1e-6, "\(kind) \(layer)")
            }
        }
    }

    /// taylor in a report: on one batch, the TaylorScores values (checked against Torch-Pruning and
    /// PyTorch in TaylorReferenceTests); over two batches, their input-weighted mean.
    func testTaylorEstimatorInTheReport() throws {
        let (graph, x) = try setup()
        let labels = (0..<x.shape[0]).map { $0 % 5 }
        var options = ProfileOptions()
        options.kinds = [.channel, .group]
        options.estimators = [.taylor]
        options.bootstrapResamples = 10
        options.batchSize = x.shape[0] / 2
        let report = try ProfileFixtures.report(graph: graph, input: x, options: options, labels: labels)
        let discovery = try ItemDiscovery(graph: graph)
        let halves = ProfileFixtures.batches(x, size: options.batchSize)
        let parts = try halves.enumerated().map { i, b in
            try TaylorScores(discovery: discovery, input: b, loss: .softmaxCrossEntropy(labels: Array(labels[i * options.batchSize ..< i * options.batchSize + b.shape[0]])))
        }
        let weights = halves.map { Double($0.shape[0]) }, total = weights.reduce(0, +)
        var checked = 0
        for item in try XCTUnwrap(report["items"]?.arrayValue) {
            let value = try XCTUnwrap(item["estimators"]?["taylor"]?.doubleValue, item["id"]?.stringValue ?? "")
            var expected = 0.0
            if item["kind"]?.stringValue == "channel" {
                let producer = graph.nodes.firstIndex { $0.name == item["layer"]!.stringValue! }!
                let c = item["channel"]!.intValue!
                for (p, w) in zip(parts, weights) { expected += p.activationScores[producer]![c] * w / total }
            } else {
                let g = item["group"]!.intValue!
                for (p, w) in zip(parts, weights) { expected += (p.groupScore(g, reduction: .sum) ?? 0) * w / total }
            }
            XCTAssertEqual(value, expected, accuracy: 1e-6 * max(1, abs(expected)), item["id"]?.stringValue ?? "")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 10)
        XCTAssertNotNil(report["agreement"]?["taylor"]?["spearman"])
    }
}
