import ChannelGroups
import NetworkIR
import ONNXFormat
import TestSupport
import XCTest

/// Layer groups against what the architectures say: ResNet-18 has one group per block's first
/// convolution, one per residual stream (the stage's convolutions that feed the stream's Adds),
/// and the classifier; MobileNetV2's expand + depthwise pairs share their channels.
final class LayerGroupTests: XCTestCase {
    func testResNet18() throws {
        let c = try PruningCase("models/resnet18_bn.onnx")
        let groups = c.analysis.layerGroups()
        XCTAssertEqual(groups.count, 13)
        XCTAssertEqual(groups.map(\.id), Array(0..<groups.count))
        let streams = groups.filter { $0.producers.count > 1 }
        XCTAssertEqual(streams.map(\.channels), [64, 128, 256, 512])
        // The first stream holds the stem and both blocks' second convolutions; the others a
        // downsampling convolution and two second convolutions.
        XCTAssertEqual(streams.map(\.producers.count), [3, 3, 3, 3])
        XCTAssertEqual(groups.filter { $0.producers.count == 1 }.map(\.channels).sorted(), [64, 64, 128, 128, 256, 256, 512, 512, 1000])
        // Every dependency group is in exactly one layer group, in increasing id order.
        XCTAssertEqual(groups.flatMap(\.dependencyGroups).sorted(), Array(0..<c.analysis.groups.count))
        for lg in groups {
            XCTAssertEqual(lg.dependencyGroups, lg.dependencyGroups.sorted())
            for g in lg.dependencyGroups {
                XCTAssertEqual(Set(c.analysis.groups[g].members.map(\.producer)), Set(lg.producers))
            }
        }
        // Numbered by lowest dependency group.
        XCTAssertEqual(groups.map { $0.dependencyGroups[0] }, groups.map { $0.dependencyGroups[0] }.sorted())
        // Only the classifier reaches the graph output.
        XCTAssertEqual(groups.filter { lg in lg.dependencyGroups.contains { !c.analysis.groups[$0].prunable } }.map(\.channels), [1000])
    }

    func testMobileNetV2() throws {
        let c = try PruningCase("models/mobilenet_v2.onnx")
        let groups = c.analysis.layerGroups()
        // 17 inverted residual blocks: 16 expansions tied to their depthwise convolutions, the
        // first block's depthwise tied to the stem; projections grouped by residual streams.
        let depthwisePairs = groups.filter { lg in
            lg.producers.count == 2 && lg.producers.contains { if case .conv(let a) = c.graph.nodes[$0].op { return a.groups > 1 }; return false }
        }
        XCTAssertEqual(depthwisePairs.count, 17)
        XCTAssertEqual(groups.flatMap(\.dependencyGroups).count, c.analysis.groups.count)
    }
}
