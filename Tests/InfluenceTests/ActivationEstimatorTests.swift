import Foundation
import Influence
import NetworkIR
import Support
import TestSupport
import XCTest

/// APoZ and mean activation against ONNX Runtime: Fixtures/scripts/make_activation_fixtures.py
/// reads every conv's tail end from ORT on the committed inputs and computes both in numpy.
final class ActivationEstimatorTests: XCTestCase {
    func check(_ fixture: String, model: String, input: String, layers: String) throws {
        let reference = try JSONValue.parse(String(contentsOfFile: FixturePaths.path("activation/\(fixture)"), encoding: .utf8))
        let expected = try XCTUnwrap(reference["layers"]?.objectValue)
        let graph = try ProfileFixtures.graph(model)
        let x = try ProfileFixtures.tensor(input)
        var options = ProfileOptions()
        options.layerPattern = layers
        options.estimators = [.apoz, .meanact]
        let profiler = try Profiler(graph: graph, options: options)
        // Two batches: the sums must carry across them.
        var statistics = ActivationStatistics()
        for batch in ProfileFixtures.batches(x, size: max(1, x.shape[0] / 2)) {
            statistics.add(values: try profiler.cache(input: batch).values, tails: profiler.tailEnds)
        }
        let scores = Estimators(discovery: profiler.discovery, activations: statistics).channelScores(kinds: [.apoz, .meanact])
        var checked = 0, worstApoz = 0.0, worstMean = 0.0
        for (producer, byKind) in scores {
            let layer = graph.nodes[producer].name
            guard let ref = expected[layer] else { continue }
            let apoz = try XCTUnwrap(byKind[.apoz]), mean = try XCTUnwrap(byKind[.meanact])
            let refApoz = try XCTUnwrap(ref["apoz"]?.arrayValue?.compactMap(\.doubleValue))
            let refMean = try XCTUnwrap(ref["meanact"]?.arrayValue?.compactMap(\.doubleValue))
            XCTAssertEqual(apoz.count, refApoz.count, layer)
            for c in 0..<min(apoz.count, refApoz.count) {
                worstApoz = max(worstApoz, abs(apoz[c] - refApoz[c]))
                worstMean = max(worstMean, abs(mean[c] - refMean[c]) / max(refMean[c], 1e-6))
                checked += 1
            }
        }
        XCTAssertEqual(checked, expected.values.reduce(0) { $0 + ($1["apoz"]?.arrayValue?.count ?? 0) })
        // A value that is exactly zero in one engine can be ±1e-9 in the other after a fused
        // kernel: allow a few positions per channel to flip.
        print("\(fixture): \(checked) channels, largest APoZ difference \(worstApoz), largest relative mean-activation difference \(worstMean)")
        XCTAssertLessThanOrEqual(worstApoz, 0.01, "\(fixture): largest APoZ difference")
        XCTAssertLessThanOrEqual(worstMean, 1e-4, "\(fixture): largest relative mean-activation difference")
    }

    func testResNet18WithBatchNormalization() throws {
        try check("resnet18_bn.json", model: "models/resnet18_bn.onnx", input: "models/resnet18_bn.input.npy", layers: "*Conv")
    }

    func testMobileNetV2ReLU6() throws {
        try check("mobilenet_v2.json", model: "models/mobilenet_v2.onnx", input: "models/mobilenet_v2.input.npy", layers: "/features/features.10/*,/features/features.11/*")
    }

    func testEfficientNetLite0Demo() throws {
        try check("efficientnet_lite0.json", model: "demo/efficientnet_lite0.onnx", input: "demo/images.input.npy", layers: "/_blocks.15/*")
    }
}
