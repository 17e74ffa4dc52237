import DataInput
import Execution
import Foundation
import Influence
import NetworkIR
import ONNXFormat
import TestSupport

/// Runs the profiler in-process on committed models and inputs.
enum ProfileFixtures {
    static func graph(_ relative: String) throws -> Graph {
        try Importer.importGraph(try ONNXModel.load(path: FixturePaths.path(relative)))
    }

    static func tensor(_ relative: String) throws -> Tensor {
        let a = try NPYArray.read(path: FixturePaths.path(relative))
        return Tensor(shape: a.shape, storage: a.floats())
    }

    /// Splits a batch into batches of `size` (the last may be smaller).
    static func batches(_ x: Tensor, size: Int) -> [Tensor] {
        let n = x.shape[0], per = x.count / n
        return stride(from: 0, to: n, by: size).map { start in
            let end = min(n, start + size)
            return Tensor(shape: [end - start] + x.shape.dropFirst(), storage: Array(x.storage[start * per ..< end * per]))
        }
    }

    static func report(graph: Graph, input: Tensor, options: ProfileOptions, checkpoint: String? = nil, resume: Bool = false) throws -> JSONValue {
        let profiler = try Profiler(graph: graph, options: options)
        let session = ProfileSession(profiler: profiler, checkpointPath: checkpoint, fingerprint: "test")
        var pending = batches(input, size: options.batchSize)
        let m = try session.run(resume: resume, nextBatch: { pending.isEmpty ? nil : (pending.removeFirst(), nil) }, progress: { _ in })
        let header = try ProfileReport.header(graph: graph, discovery: profiler.discovery, model: .string("test"), data: .string("test"),
                                              options: options, baseline: m.baseline)
        return ProfileReport.assemble(header: header, items: ProfileReport.itemObjects(m, options: options, discovery: profiler.discovery), timing: nil)
    }
}
