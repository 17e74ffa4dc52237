import DataInput
import Execution
import Foundation
import Influence
import NetworkIR
import ONNXFormat
import Support
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

    /// A whole report, as `weakspot profile` assembles it; throws when it does not validate against
    /// the report schema, so every report a test makes is checked.
    static func report(graph: Graph, input: Tensor, options: ProfileOptions, checkpoint: String? = nil, resume: Bool = false,
                       labels: [Int]? = nil) throws -> JSONValue {
        let profiler = try Profiler(graph: graph, options: options)
        let session = ProfileSession(profiler: profiler, checkpointPath: checkpoint, fingerprint: "test")
        session.population = input.shape[0]
        var pending = batches(input, size: options.batchSize)
        var pendingLabels = labels.map { l in stride(from: 0, to: l.count, by: options.batchSize).map { Array(l[$0 ..< min(l.count, $0 + options.batchSize)]) } }
        let m = try session.run(resume: resume, nextBatch: {
            guard !pending.isEmpty else { return nil }
            return (pending.removeFirst(), pendingLabels?.removeFirst())
        }, progress: { _ in })
        let cost = try graph.cost(batch: 1)
        let model: JSONValue = ["path": "test.onnx", "sha256": .string(String(repeating: "0", count: 64)), "params": .int(cost.params),
                                "macs": .int(cost.macs), "inputShape": .array(([1] + input.shape.dropFirst()).map { .int($0) }), "layout": "NCHW"]
        let data: JSONValue = ["source": "test.npy", "count": .int(input.shape[0]), "preprocessing": "none", "hardExamples": nil, "skipped": []]
        let header = try ProfileReport.header(graph: graph, discovery: profiler.discovery, model: model, data: data,
                                              request: ProfileRequest(measuring: options), baseline: m.baseline)
        let report = ProfileReport.assemble(header: header, items: ProfileReport.itemObjects(m, options: options, discovery: profiler.discovery), timing: nil)
        try SchemaCheck.validate(report)
        return report
    }
}

/// Fails a test (by throwing) when a report breaks docs/schemas/report.schema.json.
enum SchemaCheck {
    struct Violation: Error, CustomStringConvertible {
        var problems: [String]
        var description: String { "report does not validate: " + problems.joined(separator: "; ") }
    }

    static func validate(_ report: JSONValue) throws {
        let problems = ReportSchema.validator.violations(of: report)
        if !problems.isEmpty { throw Violation(problems: problems) }
    }
}
