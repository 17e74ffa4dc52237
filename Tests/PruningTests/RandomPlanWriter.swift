import NetworkIR
import ChannelGroups
import Foundation
import Influence
import Support
import TestSupport
import XCTest

/// On demand only: `WEAKSPOT_WRITE_PLANS=<folder> swift test -c release --filter RandomPlanWriter`
/// writes `<model>.plan.json` (schema weakspot.plan/1, `groups` only) removing about half of
/// every prunable layer group's channels (seeded), for Tests/Benchmarks/check_pruned_onnxruntime.py.
final class RandomPlanWriter: XCTestCase {
    func testWritePlans() throws {
        guard let folder = ProcessInfo.processInfo.environment["WEAKSPOT_WRITE_PLANS"] else {
            throw XCTSkip("set WEAKSPOT_WRITE_PLANS to a folder to write the plans")
        }
        for relative in ["models/resnet18_bn.onnx", "models/mobilenet_v2.onnx", "demo/efficientnet_lite0.onnx", "models/mobilenet_v3_small.onnx",
                         "models/squeezenet1_1.onnx", "models/resnet18.onnx"] {
            let c = try PruningCase(relative)
            var rng = SplitMix64(seed: 2024)
            var groups: [JSONValue] = []
            for lg in c.prunableLayerGroups where lg.channels >= 2 {
                var order = Array(0..<lg.channels)
                for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
                let removed = order.prefix(lg.channels / 2).sorted()
                groups.append(["id": .int(lg.id), "layers": .array(lg.producers.map { .string(c.graph.nodes[$0].name) }),
                               "channels": .int(lg.channels), "removed": .array(removed.map { .int($0) })])
            }
            let path = FixturePaths.path(relative)
            let plan: JSONValue = ["schema": "weakspot.plan/1", "model": ["path": .string(path), "sha256": .string(try SHA256.hex(ofFile: path))],
                                   "groups": .array(groups)]
            let name = URL(fileURLWithPath: relative).deletingPathExtension().lastPathComponent
            try plan.rendered().write(toFile: folder + "/" + name + ".plan.json", atomically: true, encoding: .utf8)
        }
    }
}
