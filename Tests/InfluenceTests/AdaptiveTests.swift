import Foundation
import Influence
import NetworkIR
import Support
import TestSupport
import XCTest

final class AdaptiveTests: XCTestCase {
    /// Adaptive mode decides weak / not weak like exact mode on a small fixture: every item decided
    /// not weak early is not weak in exact mode (that decision is certain), items measured on every
    /// input carry exact mode's numbers, and some items stop early.
    func testAdaptiveDecisionsAgreeWithExactMode() throws {
        let graph = try ProfileFixtures.graph("models/tiny_mobilenet.onnx")
        let x = augmented(try ProfileFixtures.tensor("models/tiny_mobilenet.input.npy"))
        var options = ProfileOptions()
        options.batchSize = 4
        options.weakThreshold = 1e-3
        let exact = try ProfileFixtures.report(graph: graph, input: x, options: options)
        options.adaptive = true
        let adaptive = try ProfileFixtures.report(graph: graph, input: x, options: options)
        let e = try XCTUnwrap(exact["items"]?.arrayValue), a = try XCTUnwrap(adaptive["items"]?.arrayValue)
        XCTAssertEqual(e.count, a.count)
        let same = zip(e, a).filter { $0["weak"] == $1["weak"] }.count
        XCTAssertGreaterThanOrEqual(Double(same) / Double(e.count), 0.99, "\(same) of \(e.count) decisions agree")
        var early = 0
        for (exactItem, item) in zip(e, a) {
            let decision = try XCTUnwrap(item["adaptive"]?["decision"]?.stringValue)
            let n = item["influence"]?["n"]?.intValue ?? 0
            XCTAssertEqual(item["adaptive"]?["inputs"]?.intValue, n)
            switch decision {
            case "notWeak":
                early += 1
                XCTAssertLessThan(n, x.shape[0])
                XCTAssertEqual(exactItem["weak"]?.boolValue, false, "\(item["id"]?.stringValue ?? "") was decided not weak for certain")
            case "weak":
                early += 1
                XCTAssertLessThan(n, x.shape[0])
            default:
                XCTAssertEqual(decision, "allInputs")
                XCTAssertEqual(n, x.shape[0])
                XCTAssertEqual(item["influence"], exactItem["influence"])
                XCTAssertEqual(item["weak"], exactItem["weak"])
            }
        }
        XCTAssertGreaterThan(early, 0, "no item stopped early")
        XCTAssertEqual(adaptive["settings"]?["adaptiveLevel"]?.doubleValue, 0.01)
        XCTAssertEqual(adaptive["settings"]?["adaptiveSequence"]?.stringValue, AdaptiveRule.sequence)
        XCTAssertNil(e.first?["adaptive"])
    }

    /// An adaptive run interrupted and resumed from its checkpoint, and the same run in two
    /// shards, give the uninterrupted run's items (through `ProfileRun`, with the real schedule).
    func testAdaptiveRunsResumeAndShardToTheSameItems() throws {
        let graph = try ProfileFixtures.graph("models/tiny_mobilenet.onnx")
        let x = augmented(try ProfileFixtures.tensor("models/tiny_mobilenet.input.npy"))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ws-adaptive-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func items(shard: Shard? = nil, checkpoint: String? = nil, resume: Bool = false, stopAfter: Int? = nil) throws -> [String: JSONValue] {
            var request = ProfileRequest()
            request.data = "test"
            request.measure.batchSize = 4
            request.measure.adaptive = true
            request.measure.bootstrapResamples = 200
            request.measure.shard = shard
            request.threads = 2
            request.checkpoint = checkpoint
            request.resume = resume
            let run = try ProfileRun(request: request, graph: graph, identity: "test")
            var asked = 0
            if let stopAfter { run.shouldStop = { asked += 1; return asked > stopAfter } }
            let report = try run.run(inputs: .all(x, labels: nil), model: ["path": "m"], data: { _ in .null }, progress: { _ in })
            var byID: [String: JSONValue] = [:]
            for item in report["items"]?.arrayValue ?? [] {
                guard case .object(var o) = item, let id = o["id"]?.stringValue else { continue }
                o["rank"] = nil
                byID[id] = .object(o)
            }
            return byID
        }
        let whole = try items()
        XCTAssertGreaterThan(whole.values.filter { $0["adaptive"]?["decision"]?.stringValue != "allInputs" }.count, 0)
        let checkpoint = dir + "/run.ckpt"
        XCTAssertThrowsError(try items(checkpoint: checkpoint, stopAfter: 3)) { XCTAssertTrue($0 is ProfileInterrupted, "\($0)") }
        XCTAssertEqual(try items(checkpoint: checkpoint, resume: true), whole)
        var sharded = try items(shard: try Shard(index: 1, count: 2))
        sharded.merge(try items(shard: try Shard(index: 2, count: 2))) { first, _ in first }
        XCTAssertEqual(sharded, whole)
    }

    func testScheduleDoublesUpToTheBatch() {
        XCTAssertEqual(ProfileRequest.adaptiveSchedule(after: 1, batch: 16), [1, 2, 4, 8, 16])
        XCTAssertEqual(ProfileRequest.adaptiveSchedule(after: 3, batch: 4), [3, 4])
        XCTAssertEqual(ProfileRequest.adaptiveSchedule(after: 20, batch: 16), [16])
    }

    /// 16 inputs from the 4 photographs: each as is, mirrored left-right, upside down, and both.
    func augmented(_ x: Tensor) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        var out: [Float] = []
        for flip in 0..<4 {
            for b in 0..<n { for ch in 0..<c { for y in 0..<h { for xx in 0..<w {
                let sy = flip & 2 != 0 ? h - 1 - y : y, sx = flip & 1 != 0 ? w - 1 - xx : xx
                out.append(x.storage[((b * c + ch) * h + sy) * w + sx])
            } } } }
        }
        return Tensor(shape: [4 * n, c, h, w], storage: out)
    }

    func testHardExamplesAreTheSmallestMargins() {
        // Margins: input 0 → 3, input 1 → 0.5, input 2 → 1, input 3 → 0.5.
        let logits: [Float] = [4, 1, 0,  2, 1.5, 0,  0, 1, 2,  7, 6.5, 1]
        XCTAssertEqual(HardExamples.select(logits: logits, count: 4, k: 2), [1, 3])
        XCTAssertEqual(HardExamples.select(logits: logits, count: 4, k: 3), [1, 2, 3])
    }
}
