import ChannelGroups
import Influence
import DataInput
import Foundation
import NetworkIR
import ONNXFormat
import TestSupport
import XCTest
import Support

/// Weights wherever exporters put them (issue 15): `Constant` nodes (Paddle), `Identity`
/// chains, IR-3 graph inputs shadowing initializers, float16/bfloat16/float64 initializers and a
/// `ConstantOfShape` weight. Each small CNN holds the same weights as `initializer_cnn.onnx`, so
/// `count` must equal that model's, and `run` must equal ONNX Runtime's outputs of that file.
final class WeightPlacementTests: XCTestCase {
    static let sameWeightModels = ["paddle_constant_cnn", "ir3_shadowed_cnn", "float16_weights", "bfloat16_weights", "float64_exact_weights"]

    func path(_ name: String) -> String { FixturePaths.path("import/\(name).onnx") }

    func totals(_ model: String) throws -> [String: Any] {
        let result = weakspot("count", model, "--format", "json")
        XCTAssertEqual(result.code, 0, result.error)
        return try XCTUnwrap(try parseJSON(result.output)["totals"] as? [String: Any])
    }

    func outputs(_ model: String, data: String, _ folder: String) throws -> [Float] {
        let out = folder + "/" + UUID().uuidString + ".npy"
        let result = weakspot("run", model, "--data", data, "-o", out, "--quiet")
        XCTAssertEqual(result.code, 0, result.error)
        return try NPYArray.read(path: out).floats()
    }

    func testCountEqualsTheInitializerVersion() throws {
        let reference = try totals(path("initializer_cnn"))
        // conv1 8·3·3·3+8, conv2 8·8+8, fc 10·8+10.
        XCTAssertEqual(reference["params"] as? Int, 224 + 72 + 90)
        for name in Self.sameWeightModels {
            let got = try totals(path(name))
            XCTAssertEqual(got["params"] as? Int, reference["params"] as? Int, name)
            XCTAssertEqual(got["macs"] as? Int, reference["macs"] as? Int, name)
        }
    }

    func testRunEqualsONNXRuntime() throws {
        let folder = try temporaryFolder(self)
        let input = FixturePaths.path("import/cnn.input.npy")
        for name in ["initializer_cnn"] + Self.sameWeightModels {
            let reference = try NPYArray.read(path: FixturePaths.path("import/\(name).output.npy")).floats()
            XCTAssertEqual(reference.count, 30, name)
            let got = try outputs(path(name), data: input, folder)
            XCTAssertNil(mismatch(got, reference, .relativeToPeak(1e-5)), name)
        }
    }

    /// A plan removing channels 0–2 of every prunable layer group of `model`.
    func plan(_ model: String, _ folder: String) throws -> String {
        let graph = try Importer.importGraph(try ONNXModel.load(path: model))
        let analysis = try DependencyAnalysis(graph: graph)
        var entries: [[String: Any]] = []
        for lg in analysis.layerGroups() where lg.dependencyGroups.allSatisfy({ analysis.groups[$0].prunable }) {
            entries.append(["id": lg.id, "layers": lg.producers.map { graph.nodes[$0].name }, "channels": lg.channels, "removed": [0, 1, 2]])
        }
        XCTAssertEqual(entries.count, 2, "conv1 and conv2 are the prunable layer groups")
        let document: [String: Any] = ["schema": "weakspot.plan/1", "model": ["path": model, "sha256": try SHA256.hex(ofFile: model)],
                                       "groups": entries, "paramsBefore": 1]
        let planPath = folder + "/" + UUID().uuidString + ".json"
        try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: planPath))
        return planPath
    }

    /// Pruning weights that live in Constant nodes edits those nodes, and float16/bfloat16/
    /// float64 weights behind a Cast keep their type: each pruned model counts and runs as the
    /// pruned initializer model (ORT loads these files: checked by hand, see docs/export.md).
    func testPruningConstantNodeWeightsEqualsPruningInitializers() throws {
        let folder = try temporaryFolder(self)
        let input = FixturePaths.path("import/cnn.input.npy")
        var pruned: [String: String] = [:]
        let others = ["paddle_constant_cnn", "ir3_shadowed_cnn", "float16_weights", "bfloat16_weights", "float64_exact_weights"]
        for name in ["initializer_cnn"] + others {
            let out = folder + "/\(name).pruned.onnx"
            let result = weakspot("prune", path(name), try plan(path(name), folder), "-o", out)
            XCTAssertEqual(result.code, 0, "\(name): \(result.error)")
            pruned[name] = out
        }
        let reference = try outputs(try XCTUnwrap(pruned["initializer_cnn"]), data: input, folder)
        XCTAssertEqual(reference.count, 30)
        let referenceTotals = try totals(try XCTUnwrap(pruned["initializer_cnn"]))
        // 5 of 8 channels kept: conv1 5·3·3·3+5, conv2 5·5+5, fc 10·5+10.
        XCTAssertEqual(referenceTotals["params"] as? Int, 140 + 30 + 60)
        for name in others {
            let model = try XCTUnwrap(pruned[name])
            XCTAssertEqual(try totals(model)["params"] as? Int, referenceTotals["params"] as? Int, name)
            // float16/bfloat16 hold rounded copies of the weights: the same channels removed
            // keep them within their rounding of the float32 model; the others are exact.
            let tolerance: Approximation = name.hasPrefix("float16") || name.hasPrefix("bfloat16") ? .relativeToPeak(2e-2) : .exact
            XCTAssertNil(mismatch(try outputs(model, data: input, folder), reference, tolerance), name)
        }
    }

    func testFloat64IsNeverNarrowedSilently() throws {
        let inexact = weakspot("count", path("float64_inexact_weights"))
        XCTAssertEqual(inexact.code, 2)
        for fragment in ["float64_inexact_weights.onnx", "'w2_stored'", "float64", "not exactly a float32", "export the model in float32"] {
            XCTAssertTrue(inexact.error.contains(fragment), "missing '\(fragment)' in: \(inexact.error)")
        }
        let input = weakspot("count", path("float64_input"))
        XCTAssertEqual(input.code, 2)
        XCTAssertTrue(input.error.contains("input 'x' is float64"), input.error)
    }

    func testConstantOfShapeWeightHonoursMaxTensorElements() throws {
        let model = path("constant_of_shape_matmul")
        let counted = try totals(model)
        XCTAssertEqual(counted["params"] as? Int, 9216 * 4096)
        let limited = weakspot("count", model, "--max-tensor-elements", "1000000")
        XCTAssertEqual(limited.code, 2)
        for fragment in ["constant_of_shape_matmul.onnx", "fill", "[9216, 4096]", "37748736", "--max-tensor-elements"] {
            XCTAssertTrue(limited.error.contains(fragment), "missing '\(fragment)' in: \(limited.error)")
        }
        let folder = try temporaryFolder(self)
        let reference = try NPYArray.read(path: FixturePaths.path("import/constant_of_shape_matmul.output.npy")).floats()
        XCTAssertEqual(reference.count, 2 * 4096)
        let got = try outputs(model, data: FixturePaths.path("import/constant_of_shape_matmul.input.npy"), folder)
        XCTAssertNil(mismatch(got, reference, .relativeToPeak(1e-5)))
    }
}

/// A float64 `.npy` given to `run`: exact values are used, anything float32 cannot hold exits 2
/// naming the file, the element and the fix (it used to be narrowed silently, overflow to inf).
final class Float64DataTests: XCTestCase {
    func write(_ array: NPYArray, _ folder: String, _ name: String) throws -> String {
        let path = folder + "/" + name
        try array.write(path: path)
        return path
    }

    func testFloat64DataIsUsedOnlyWhenExact() throws {
        let folder = try temporaryFolder(self)
        let model = FixturePaths.path("import/initializer_cnn.onnx")
        let input = try NPYArray.read(path: FixturePaths.path("import/cnn.input.npy"))
        let exact = try write(NPYArray(shape: input.shape, storage: .float64(input.floats().map(Double.init))), folder, "exact64.npy")
        let ok = weakspot("run", model, "--data", exact, "-o", folder + "/out.npy", "--quiet")
        XCTAssertEqual(ok.code, 0, ok.error)
        let reference = try NPYArray.read(path: FixturePaths.path("import/initializer_cnn.output.npy")).floats()
        XCTAssertNil(mismatch(try NPYArray.read(path: folder + "/out.npy").floats(), reference, .relativeToPeak(1e-5)))

        var values = input.floats().map(Double.init)
        values[200] = 0.1
        let inexact = try write(NPYArray(shape: input.shape, storage: .float64(values)), folder, "inexact64.npy")
        let refused = weakspot("run", model, "--data", inexact, "--quiet")
        XCTAssertEqual(refused.code, 2)
        for fragment in ["inexact64.npy", "data[1, 0, 1, 0]", "float64 value 0.1", "x.astype(np.float32)"] {
            XCTAssertTrue(refused.error.contains(fragment), "missing '\(fragment)' in: \(refused.error)")
        }
        values[200] = 1e300
        let overflow = try write(NPYArray(shape: input.shape, storage: .float64(values)), folder, "overflow64.npy")
        let overflowed = weakspot("run", model, "--data", overflow, "--quiet")
        XCTAssertEqual(overflowed.code, 2)
        XCTAssertTrue(overflowed.error.contains("overflow64.npy") && overflowed.error.contains("data[1, 0, 1, 0]")
                      && overflowed.error.contains("beyond float32's range"), overflowed.error)
    }
}
