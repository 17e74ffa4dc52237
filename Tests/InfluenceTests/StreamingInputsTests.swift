import DataInput
import Execution
import Foundation
import Influence
import NetworkIR
import Support
import TestSupport
import XCTest

/// Issue 18, item 6: `--hard-examples` and `--adaptive` stream their inputs. The streaming top-k
/// must choose what a sort of every margin chose, and a replayed run must measure on exactly the
/// batches the in-memory cut gave (the whole set through the model at once, then sliced).
final class StreamingInputsTests: XCTestCase {
    /// Random logits on a coarse grid (so margins tie often), fed in random batch sizes.
    func testStreamingSelectionEqualsTheSortOfEveryMargin() {
        var rng = SplitMix64(seed: 7)
        func random(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        var compared = 0
        for _ in 0..<200 {
            let count = 1 + random(60), classes = 1 + random(5), k = 1 + random(count + 3)
            let logits = (0..<count * classes).map { _ in Float(random(8)) / 2 }
            var sorted: [(margin: Float, index: Int)] = []
            for n in 0..<count {
                let row = logits[n * classes ..< (n + 1) * classes].sorted(by: >)
                sorted.append((classes >= 2 ? row[0] - row[1] : 0, n))
            }
            let expected = sorted.sorted { $0.margin != $1.margin ? $0.margin < $1.margin : $0.index < $1.index }.prefix(k).map(\.index).sorted()
            var selector = HardExamples.Selector(k: k)
            var start = 0
            while start < count {
                let n = min(count - start, 1 + random(9))
                selector.add(logits: Array(logits[start * classes ..< (start + n) * classes]), count: n)
                start += n
            }
            XCTAssertEqual(selector.seen, count)
            XCTAssertEqual(selector.chosen, expected, "count \(count), classes \(classes), k \(k)")
            XCTAssertEqual(HardExamples.select(logits: logits, count: count, k: k), expected)
            compared += expected.count
        }
        XCTAssertGreaterThan(compared, 1000)
    }

    /// The items a session measures on `batches` (the cut the in-memory code made), without ranks.
    func referenceItems(graph: Graph, options: ProfileOptions, batches: [Tensor], firstSliceBatches: Int = 1) throws -> [JSONValue] {
        let profiler = try Profiler(graph: graph, options: options)
        let session = ProfileSession(profiler: profiler, checkpointPath: nil, fingerprint: "test")
        session.firstSliceBatches = firstSliceBatches
        session.population = batches.reduce(0) { $0 + $1.shape[0] }
        var pending = batches
        let m = try session.run(resume: false, nextBatch: { pending.isEmpty ? nil : (pending.removeFirst(), nil) }, progress: { _ in })
        return ProfileReport.itemObjects(m, options: options, discovery: profiler.discovery).map(withoutRank)
    }

    func withoutRank(_ item: JSONValue) -> JSONValue {
        guard case .object(var o) = item else { return item }
        o["rank"] = nil
        return .object(o)
    }

    func rows(_ x: Tensor, _ indices: [Int]) -> Tensor {
        let per = x.count / x.shape[0]
        return Tensor(shape: [indices.count] + x.shape.dropFirst(), storage: indices.flatMap { Array(x.storage[$0 * per ..< ($0 + 1) * per]) })
    }

    /// `--hard-examples 16 --adaptive --batch 4` on 24 inputs, read from a replayable source that
    /// counts its passes: two passes (select, read), each in batches of at most 4; the items equal
    /// those measured on the hard examples chosen from one whole-set forward pass, cut by the
    /// adaptive schedule (a first slice of one input, then 1, 2, 4, 4… at `--batch 4`). With
    /// `--adaptive-slice 6` the first slice is read as two batches (4 and 2) and decided after both.
    func testReplayedHardExamplesMeasureWhatTheInMemoryCutMeasured() throws {
        let graph = try ProfileFixtures.graph("models/tiny_resnet.onnx")
        for (total, k, slice) in [(24, 16, nil), (40, 32, 6)] as [(Int, Int, Int?)] {
            let x = Tensor(shape: [total, 3, 64, 64], storage: SyntheticNormalGenerator(seed: 3).elements(from: 0, count: total * 3 * 64 * 64))
            var request = ProfileRequest()
            request.data = "test"
            request.measure.batchSize = 4
            request.measure.adaptive = true
            request.measure.layerPattern = "/layer2*"
            request.measure.bootstrapResamples = 20
            request.hardExamples = k
            request.adaptiveSlice = slice
            request.threads = 2
            let run = try ProfileRun(request: request, graph: graph, identity: "test")
            var passes = 0, largest = 0
            let memory = ReplayableInputs(x, labels: nil)
            let source = ReplayableInputs(count: total) { size in
                passes += 1
                let next = try memory.open(size)
                return { let b = try next(); largest = max(largest, b?.0.shape[0] ?? 0); return b }
            }
            let report = try run.run(inputs: .replayable(source), model: ["path": "m"], data: { _ in .null }, progress: { _ in })
            XCTAssertEqual(passes, 2)
            XCTAssertEqual(largest, 4)
            let logits = try ExecutionPlan(graph: graph, options: ExecutionOptions(threads: 2)).run(x)[0]
            let chosen = rows(x, HardExamples.select(logits: logits.storage, count: total, k: k))
            let first = slice ?? 1
            let firstCut = Array(repeating: 4, count: first / 4) + (first % 4 > 0 ? [first % 4] : [])
            let schedule = ProfileRequest.adaptiveSchedule(after: first, batch: 4)
            var batches: [Tensor] = [], start = 0, position = 0
            while start < k {
                let want = position < firstCut.count ? firstCut[position] : schedule[min(position - firstCut.count, schedule.count - 1)]
                let size = min(want, k - start)
                batches.append(rows(chosen, Array(start ..< start + size)))
                start += size
                position += 1
            }
            let expected = try referenceItems(graph: graph, options: request.options, batches: batches, firstSliceBatches: firstCut.count)
            let items = try XCTUnwrap(report["items"]?.arrayValue).map(withoutRank)
            XCTAssertEqual(items.count, expected.count)
            XCTAssertGreaterThan(items.count, 30)
            XCTAssertEqual(items, expected, "\(k) of \(total)")
            XCTAssertGreaterThan(report["timing"]?["peakMemoryBytes"]?.intValue ?? 0, 0)
        }
    }
}
