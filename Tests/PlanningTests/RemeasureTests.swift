import ChannelGroups
import Execution
import Foundation
import Influence
import NetworkIR
import ONNXFormat
import Planning
import TestSupport
import XCTest

/// `plan --steps`: a group's influence re-measured on a partly pruned model (cone-only runs from a
/// masked cache) equals the KL between two whole masked runs, with and without that group.
final class RemeasureTests: XCTestCase {
    func testRemeasuredInfluenceEqualsWholeMaskedRuns() throws {
        let setup = try PlannerTests.setup("models/tiny_mobilenet.onnx", input: "models/tiny_mobilenet.input.npy", count: 4)
        let groups = setup.discovery.dependencies.groups
        let prunable = groups.indices.filter { groups[$0].prunable }
        XCTAssertGreaterThan(prunable.count, 20)
        // Every fifth prunable group removed; every seventh of the rest re-measured.
        let removed = Set(prunable.enumerated().filter { $0.offset % 5 == 0 }.map { $0.element })
        let probes = Set(prunable.filter { !removed.contains($0) }.enumerated().filter { $0.offset % 7 == 0 }.map { $0.element })
        let remeasurer = try GroupRemeasurer(graph: setup.graph, verifier: setup.verifier,
                                             batches: setup.inputs.map { ($0, nil) }, threads: 2)
        let fast = try remeasurer.influence(of: probes, removing: removed)
        XCTAssertEqual(Set(fast.keys), probes)
        let masked = try setup.verifier.maskedLogits(removing: removed)[0]
        let baseline = Baseline(logits: masked.storage, count: masked.shape[0], labels: nil, kind: setup.verifier.outputKind)
        var nonzero = 0
        for g in probes.sorted() {
            let both = try setup.verifier.maskedLogits(removing: removed.union([g]))[0]
            let slow = baseline.compare(both.storage).means[.kl]!
            XCTAssertEqual(try XCTUnwrap(fast[g]), slow, accuracy: max(1e-6, 1e-3 * slow), "group \(g)")
            if slow > 1e-6 { nonzero += 1 }
        }
        XCTAssertGreaterThan(nonzero, 0, "the probes must change the output")
        // Without removals it is the plain single-group influence.
        let plain = try remeasurer.influence(of: probes, removing: [])
        let original = try setup.verifier.maskedLogits(removing: [])[0]
        let base0 = Baseline(logits: original.storage, count: original.shape[0], labels: nil, kind: setup.verifier.outputKind)
        for g in probes.sorted().prefix(3) {
            let slow = base0.compare(try setup.verifier.maskedLogits(removing: [g])[0].storage).means[.kl]!
            XCTAssertEqual(try XCTUnwrap(plain[g]), slow, accuracy: max(1e-6, 1e-3 * slow), "group \(g) alone")
        }
    }
}
