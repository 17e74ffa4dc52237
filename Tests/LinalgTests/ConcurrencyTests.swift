import Dispatch
import Foundation
import Linalg
import XCTest

/// Several callers at once: the worker pool serves one job at a time and the others run their
/// parts themselves; scratch buffers are per call. Every result must equal the lone-caller one.
final class ConcurrencyTests: XCTestCase {
    func testConcurrentCallersGetIdenticalResults() throws {
        let geometry = ConvGeometry(inputChannels: 16, outputChannels: 24, kernelHeight: 3, kernelWidth: 3,
                                    padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
        let depthwise = ConvGeometry(inputChannels: 16, outputChannels: 16, kernelHeight: 3, kernelWidth: 3,
                                     strideHeight: 2, strideWidth: 2, padTop: 1, padLeft: 1, padBottom: 1,
                                     padRight: 1, groups: 16)
        var random = SeededValues(seed: 99)
        let convs = [try Conv2D(weights: random.array(try geometry.weightCount()), bias: random.array(24), geometry: geometry),
                     try Conv2D(weights: random.array(try depthwise.weightCount()), bias: random.array(16), geometry: depthwise)]
        let input = random.array(2 * 16 * 20 * 20)
        var expected: [[Float]] = []
        for conv in convs {
            let (oh, ow) = try conv.geometry.outputSize(inputHeight: 20, inputWidth: 20)
            var out = [Float](repeating: 0, count: 2 * conv.geometry.outputChannels * oh * ow)
            try conv.run(input: input, batch: 2, inputHeight: 20, inputWidth: 20, output: &out, residual: nil,
                         activation: .relu, threads: 1)
            expected.append(out)
        }
        let reference = expected
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 8) { caller in
            for round in 0..<20 {
                let index = (caller + round) % convs.count
                let conv = convs[index]
                guard let (oh, ow) = try? conv.geometry.outputSize(inputHeight: 20, inputWidth: 20) else { return failures.add() }
                var out = [Float](repeating: .nan, count: 2 * conv.geometry.outputChannels * oh * ow)
                do {
                    try conv.run(input: input, batch: 2, inputHeight: 20, inputWidth: 20, output: &out, residual: nil,
                                 activation: .relu, threads: 2)
                } catch { failures.add() }
                if out != reference[index] { failures.add() }
            }
        }
        XCTAssertEqual(failures.count, 0, "concurrent results differ from the single-caller ones")
    }
}

private final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func add() { lock.lock(); value += 1; lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return value }
}
