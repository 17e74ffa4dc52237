import Execution
import Foundation
import NetworkIR
import TestSupport
import XCTest

/// Every supported operator against ONNX Runtime's output on a single-op model. The cases are
/// in every `Fixtures/ops/manifest*.json`: manifest.json (Fixtures/scripts/make_ops.py),
/// manifest-elementwise.json (make_ops_elementwise.py), manifest-structural.json
/// (make_ops_structural.py), and any other family's manifest.
final class OperatorParityTests: XCTestCase {
    struct Case {
        let name: String, op: String, model: String, inputs: [String], outputs: [String], manifest: String
    }

    /// The fewest cases each manifest must hold, so that a lost or truncated manifest fails
    /// (a manifest not listed here must still hold at least one case).
    static let minimumCases: [String: Int] = ["manifest.json": 50, "manifest-elementwise.json": 80, "manifest-structural.json": 60]

    func manifestNames() throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: FixturePaths.path("ops"))
            .filter { $0.hasPrefix("manifest") && $0.hasSuffix(".json") }.sorted()
        for required in Self.minimumCases.keys { XCTAssert(names.contains(required), "Fixtures/ops/\(required) is missing") }
        return names
    }

    func cases(in manifest: String) throws -> [Case] {
        let data = try Data(contentsOf: FixturePaths.url("ops/" + manifest))
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let list = try XCTUnwrap(root["cases"] as? [[String: Any]])
        let result = list.map { c in
            Case(name: c["name"] as! String, op: c["op"] as! String, model: c["model"] as! String,
                 inputs: (c["inputs"] as! [[String: Any]]).map { $0["file"] as! String },
                 outputs: (c["outputs"] as! [[String: Any]]).map { $0["file"] as! String }, manifest: manifest)
        }
        XCTAssertGreaterThanOrEqual(result.count, Self.minimumCases[manifest] ?? 1, "cases in Fixtures/ops/\(manifest)")
        return result
    }

    func cases() throws -> [Case] {
        let all = try manifestNames().flatMap { try cases(in: $0) }
        XCTAssertEqual(Set(all.map(\.name)).count, all.count, "case names repeat across manifests")
        return all
    }

    func check(reference: Bool, fuse: Bool) throws {
        let all = try cases()
        XCTAssertGreaterThan(all.count, Self.minimumCases.values.reduce(0, +))
        var failures: [String] = []
        var worst: [String: (error: Float, name: String)] = [:]
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
                    } else if let e = errorOfPeak(got.storage, expected.storage), e > worst[c.manifest]?.error ?? 0 {
                        worst[c.manifest] = (e, c.name)
                    }
                }
            } catch {
                failures.append("\(c.name) (\(c.op)): \(error)")
            }
        }
        XCTAssert(failures.isEmpty, "\(failures.count) of \(all.count) cases differ from ONNX Runtime:\n" + failures.joined(separator: "\n"))
        for (manifest, w) in worst.sorted(by: { $0.key < $1.key }) {
            print("operator parity (reference \(reference), fuse \(fuse)) \(manifest): worst max|diff|/max|output| \(w.error) in \(w.name)")
        }
    }

    /// max |got − expected| / max |expected|, for the summary line (nil for an all-zero output).
    func errorOfPeak(_ got: [Float], _ expected: [Float]) -> Float? {
        let peak = expected.map(abs).max() ?? 0
        guard peak > 0 else { return nil }
        return zip(got, expected).map { abs($0 - $1) }.max()! / peak
    }

    func testEveryOperatorMatchesONNXRuntimeWithReferenceKernels() throws {
        try check(reference: true, fuse: false)
    }

    func testEveryOperatorMatchesONNXRuntimeWithFastKernelsAndFusion() throws {
        try check(reference: false, fuse: true)
    }

    func testEverySupportedOperatorHasAParityCase() throws {
        let covered = Set(try cases().map(\.op))
        // Folded at import, or (QuantizeLinear/DequantizeLinear) checked against ONNX Runtime in
        // QuantizeDequantizeTests on Fixtures/qdq, whose cases need integer tensors.
        let folded: Set<String> = ["Constant", "ConstantOfShape", "Gather", "Shape", "QuantizeLinear", "DequantizeLinear"]
        let missing = Importer.supportedOperators.filter { !covered.contains($0) && !folded.contains($0) }
        XCTAssert(missing.isEmpty, "operators without a single-op parity case: \(missing)")
    }
}
