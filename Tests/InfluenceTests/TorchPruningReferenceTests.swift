import ChannelGroups
import Foundation
import Influence
import NetworkIR
import Support
import TestSupport
import XCTest

/// Dependency groups and estimator scores against Torch-Pruning 1.6 on the same weights
/// (Fixtures/torch_pruning, made by Fixtures/scripts/make_torch_pruning_fixtures.py):
/// MagnitudeImportance(p=1), (p=2) and BNScaleImportance with group_reduction 'mean'.
final class TorchPruningReferenceTests: XCTestCase {
    func close(_ ours: Double, _ reference: Double) -> Bool {
        abs(ours - reference) <= 1e-5 * max(abs(reference), 1e-12) + 1e-7
    }

    func check(model: String, fixture: String) throws {
        let reference = try JSONValue.parse(String(contentsOfFile: FixturePaths.path("torch_pruning/\(fixture)"), encoding: .utf8))
        let graph = try ProfileFixtures.graph(model)
        let discovery = try ItemDiscovery(graph: graph)
        let estimators = Estimators(discovery: discovery)
        let scores = estimators.channelScores(kinds: EstimatorKind.allCases)
        let moduleToNode = try XCTUnwrap(reference["moduleToNode"]?.objectValue).compactMapValues(\.stringValue)

        // Per-channel filter norms.
        var compared = 0
        for (module, norms) in try XCTUnwrap(reference["filterNorms"]?.objectValue) {
            let node = try XCTUnwrap(moduleToNode[module].flatMap { graph.node(named: $0) }, module)
            for kind in [EstimatorKind.l1, .l2] {
                let expected = try XCTUnwrap(norms[kind.rawValue]?.arrayValue).compactMap(\.doubleValue)
                let ours = try XCTUnwrap(scores[node]?[kind])
                XCTAssertEqual(ours.count, expected.count, module)
                let bad = zip(ours, expected).enumerated().filter { !close($0.element.0, $0.element.1) }
                XCTAssertTrue(bad.isEmpty, "\(module) \(kind): \(bad.count) channels differ, first \(bad.first.map { "#\($0.offset): \($0.element)" } ?? "")")
                compared += ours.count
            }
        }
        XCTAssertGreaterThan(compared, 1000)

        // Group membership and group scores.
        let analysis = discovery.dependencies
        var groupOf: [String: Int] = [:]
        for (g, group) in analysis.groups.enumerated() { for m in group.members { groupOf["\(graph.nodes[m.producer].name)#\(m.channel)"] = g } }
        var groupsCompared = 0, mismatches: [String] = []
        for tpGroup in try XCTUnwrap(reference["groups"]?.arrayValue) {
            let rootChannels = try XCTUnwrap(tpGroup["rootChannels"]?.arrayValue).compactMap(\.intValue)
            let members = try XCTUnwrap(tpGroup["members"]?.arrayValue)
            let l1 = try XCTUnwrap(tpGroup["l1_mean"]?.arrayValue).compactMap(\.doubleValue)
            let l2 = try XCTUnwrap(tpGroup["l2_mean"]?.arrayValue).compactMap(\.doubleValue)
            let bn = tpGroup["bn_mean"]?.arrayValue?.compactMap(\.doubleValue)
            // Torch-Pruning lists members per root channel in order; channel i of the group is
            // every member whose index within its module is the i-th root channel's partner.
            let byChannel = Dictionary(grouping: members) { $0["channel"]?.intValue ?? -1 }
            for (i, c) in rootChannels.enumerated() {
                let names = (byChannel[c] ?? []).compactMap { m -> String? in
                    guard let module = m["module"]?.stringValue, let node = moduleToNode[module] else { return nil }
                    return "\(node)#\(c)"
                }
                let ours = Set(names.compactMap { groupOf[$0] })
                guard ours.count == 1, let g = ours.first else {
                    mismatches.append("members \(names) fall into our groups \(ours)")
                    continue
                }
                let expectedMembers = Set(names)
                let ourMembers = Set(analysis.groups[g].members.map { "\(graph.nodes[$0.producer].name)#\($0.channel)" })
                if expectedMembers != ourMembers { mismatches.append("group of \(names.first ?? "?"): ours \(ourMembers.sorted()), Torch-Pruning \(expectedMembers.sorted())") }
                for (kind, expected) in [(EstimatorKind.l1, l1), (.l2, l2)] where i < expected.count {
                    let value = estimators.groupScore(g, kind: kind, reduction: .mean, channelScores: scores)
                    if value == nil || !close(value!, expected[i]) { mismatches.append("group of \(names.first ?? "?") \(kind): ours \(value ?? .nan), Torch-Pruning \(expected[i])") }
                }
                if let bn, i < bn.count {
                    let value = estimators.groupScore(g, kind: .bn, reduction: .mean, channelScores: scores)
                    if value == nil || !close(value!, bn[i]) { mismatches.append("group of \(names.first ?? "?") bn: ours \(value ?? .nan), Torch-Pruning \(bn[i])") }
                }
                groupsCompared += 1
            }
        }
        XCTAssertEqual(groupsCompared, try XCTUnwrap(reference["channelGroupCount"]?.intValue))
        XCTAssertTrue(mismatches.isEmpty, "\(mismatches.count) mismatches; first: \(mismatches.prefix(3))")
    }

    func testResNet18() throws { try check(model: "models/resnet18_bn.onnx", fixture: "resnet18_bn.json") }
    func testEfficientNetLite0() throws { try check(model: "demo/efficientnet_lite0.onnx", fixture: "efficientnet_lite0.json") }
}
