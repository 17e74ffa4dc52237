import Execution
import Foundation
import NetworkIR
import TestSupport
import XCTest

/// Every supported operator against ONNX Runtime's output on a single-op model
/// (Fixtures/ops, made by Fixtures/scripts/make_models.py).
final class OperatorParityTests: XCTestCase {
    struct Case {
        let name: String, op: String, model: String, inputs: [String], outputs: [String]
    }

    func cases(manifest: String = "manifest.json") throws -> [Case] {
        let data = try Data(contentsOf: FixturePaths.url("ops/" + manifest))
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let list = try XCTUnwrap(root["cases"] as? [[String: Any]])
        return list.map { c in
            Case(name: c["name"] as! String, op: c["op"] as! String, model: c["model"] as! String,
                 inputs: (c["inputs"] as! [[String: Any]]).map { $0["file"] as! String },
                 outputs: (c["outputs"] as! [[String: Any]]).map { $0["file"] as! String })
        }
    }

    func check(reference: Bool, fuse: Bool, manifest: String = "manifest.json") throws {
        let all = try cases(manifest: manifest)
        XCTAssertGreaterThan(all.count, 50)
        var failures: [String] = []
        for c in all {
            do {
                let graph = try ModelFixtures.graph("ops/" + c.model)
                let plan = try ExecutionPlan(graph: graph, options: ExecutionOptions(threads: 2, fuse: fuse, useReferenceKernels: reference))
                var known: [ValueID: Tensor] = [:]
                for (input, file) in zip(graph.inputs, c.inputs) { known[input.value] = try ModelFixtures.tensor("ops/" + file) }
                let result = try plan.run(known: known, outputs: graph.outputs)
                for (id, file) in zip(graph.outputs, c.outputs) {
                    let expected = try ModelFixtures.tensor("ops/" + file)
                    guard let got = result[id] else { failures.append("\(c.name): no output"); continue }
                    if got.shape != expected.shape {
                        failures.append("\(c.name): shape \(got.shape), expected \(expected.shape)")
                    } else if let m = mismatch(got.storage, expected.storage, .close(absolute: 1e-5, relative: 1e-4)) {
                        failures.append("\(c.name): \(m)")
                    }
                }
            } catch {
                failures.append("\(c.name) (\(c.op)): \(error)")
            }
        }
        XCTAssert(failures.isEmpty, "\(failures.count) of \(all.count) cases differ from ONNX Runtime:\n" + failures.joined(separator: "\n"))
    }

    func testEveryOperatorMatchesONNXRuntimeWithReferenceKernels() throws {
        try check(reference: true, fuse: false)
    }

    func testEveryOperatorMatchesONNXRuntimeWithFastKernelsAndFusion() throws {
        try check(reference: false, fuse: true)
    }

    /// The structural operators' cases (Fixtures/scripts/make_ops_structural.py).
    func testStructuralOperatorsMatchONNXRuntimeWithReferenceKernels() throws {
        try check(reference: true, fuse: false, manifest: "manifest-structural.json")
    }

    func testStructuralOperatorsMatchONNXRuntimeWithFastKernelsAndFusion() throws {
        try check(reference: false, fuse: true, manifest: "manifest-structural.json")
    }

    func testEverySupportedOperatorHasAParityCase() throws {
        let covered = Set(try cases().map(\.op) + cases(manifest: "manifest-structural.json").map(\.op))
        let folded: Set<String> = ["Constant", "ConstantOfShape", "Gather", "Shape"]
        let missing = Importer.supportedOperators.filter { !covered.contains($0) && !folded.contains($0) }
        XCTAssert(missing.isEmpty, "operators without a single-op parity case: \(missing)")
    }
}
