import Foundation
import NetworkIR
import ONNXFormat
import Quantization
import Support
import TestSupport
import XCTest

/// `weakspot quantize`: with --bits or a plan, the QDQ file it writes runs in WeakSpot as what it
/// measured, `count` gives its stored bytes, and bad plans and option combinations are refused
/// with exit code 2 naming the place.
final class QuantizeCommandTests: XCTestCase {
    let model = FixturePaths.path("models/tiny_resnet.onnx")
    let data = FixturePaths.path("models/tiny_resnet.input.npy")

    func layers() throws -> [QuantizableLayer] {
        QuantizableLayer.all(in: try Importer.importGraph(try ONNXModel.load(path: model)))
    }

    func testBitsWithActivationsWritesARunnableQDQModel() throws {
        let folder = try temporaryFolder(self)
        let result = weakspot("quantize", model, "--bits", "8", "--activations", "8", "--calibrate", data, "-o", folder + "/q.onnx", "--quiet")
        XCTAssertEqual(result.code, 0, result.error)
        let count = try layers().count
        XCTAssertTrue(result.output.hasPrefix("quantized \(count) weight tensors (\(count) at 8 bits), \(count) activations uint8 (calibrated on 1 batches): \(folder)/q.onnx\n"), result.output)
        let written = try ONNXModel.load(path: folder + "/q.onnx")
        XCTAssertEqual(written.graph.nodes.filter { $0.opType == "QuantizeLinear" }.count, count)
        let run = weakspot("run", folder + "/q.onnx", "--data", data, "-o", folder + "/l.npy", "--quiet")
        XCTAssertEqual(run.code, 0, run.error)
        let float = weakspot("run", model, "--data", data, "-o", folder + "/f.npy", "--quiet")
        XCTAssertEqual(float.code, 0, float.error)
        XCTAssertNotEqual(try Data(contentsOf: URL(fileURLWithPath: folder + "/l.npy")), try Data(contentsOf: URL(fileURLWithPath: folder + "/f.npy")), "quantizing changed nothing")
    }

    /// --granularity, --calibration and --max-inputs override the defaults: scalar scales, and
    /// two calibration batches of one input each.
    func testCalibrationOptions() throws {
        let folder = try temporaryFolder(self)
        let result = weakspot("quantize", model, "--bits", "5", "--activations", "8", "--calibrate", data, "--granularity", "tensor",
                              "--calibration", "percentile", "--max-inputs", "2", "--batch", "1", "--threads", "1", "-o", folder + "/q.onnx", "-q")
        XCTAssertEqual(result.code, 0, result.error)
        XCTAssertTrue(result.output.contains("activations uint8 (calibrated on 2 batches)"), result.output)
        let written = try ONNXModel.load(path: folder + "/q.onnx")
        let scales = written.graph.initializers.filter { $0.name.hasSuffix("_scale") }
        XCTAssertEqual(scales.count, 2 * (try layers().count))
        XCTAssertTrue(scales.allSatisfy { $0.dims == [] })
    }

    /// A plan naming every layer at 8 bits with uint8 activations writes the same bytes as
    /// --bits 8 --activations 8; per-tensor scales from the plan give scalar scales.
    func testPlanIsReadAsBitsAre() throws {
        let folder = try temporaryFolder(self)
        let entries = try layers().map { "{\"name\": \"\($0.name)\", \"bits\": 8}" }.joined(separator: ", ")
        let plan = "{\"schema\": \"weakspot.quantize-plan/1\", \"layers\": [\(entries)], \"granularity\": \"channel\", \"activations\": {\"bits\": 8, \"calibration\": \"minmax\"}}"
        try plan.write(toFile: folder + "/plan.json", atomically: true, encoding: .utf8)
        XCTAssertEqual(weakspot("quantize", model, folder + "/plan.json", "--calibrate", data, "-o", folder + "/a.onnx", "-q").code, 0)
        XCTAssertEqual(weakspot("quantize", model, "--bits", "8", "--activations", "8", "--calibrate", data, "-o", folder + "/b.onnx", "-q").code, 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: folder + "/a.onnx")), try Data(contentsOf: URL(fileURLWithPath: folder + "/b.onnx")))
        let (first, second) = (try layers()[0], try layers()[1])
        // A float layer is listed at 32 bits, as the planner writes it, and stays float.
        let tensorPlan = "{\"schema\": \"weakspot.quantize-plan/1\", \"layers\": [{\"name\": \"\(first.name)\", \"bits\": 4}, {\"name\": \"\(second.name)\", \"bits\": 32}], \"granularity\": \"tensor\", \"activations\": null}"
        try tensorPlan.write(toFile: folder + "/tensor.json", atomically: true, encoding: .utf8)
        let result = weakspot("quantize", model, folder + "/tensor.json", "-o", folder + "/t.onnx", "-q")
        XCTAssertEqual(result.code, 0, result.error)
        XCTAssertTrue(result.output.hasPrefix("quantized 1 weight tensors (1 at 4 bits), activations float"), result.output)
        let written = try ONNXModel.load(path: folder + "/t.onnx")
        let scales = written.graph.initializers.filter { $0.name.hasSuffix("_scale") }
        XCTAssertEqual(scales.map(\.dims), [[]])
    }

    /// A hand-written plan with the float rung and per-layer calibrators: a layer at 32 bits with
    /// an `activation` keeps float weights and a quantized output; each output is calibrated by
    /// its layer's method. `--calibration` replaces every per-layer method: the file is then the
    /// one a plan with no per-layer methods writes.
    func testPlanWithFloatLayersAndPerLayerCalibration() throws {
        let folder = try temporaryFolder(self)
        let all = try layers()
        let (a, b, c) = (all[0], all[1], all[2])
        func write(_ name: String, _ entries: String, calibration: String) throws -> String {
            let path = folder + "/" + name
            try "{\"schema\": \"weakspot.quantize-plan/1\", \"layers\": [\(entries)], \"activations\": {\"bits\": 8, \"calibration\": \"\(calibration)\"}}"
                .write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let mixed = try write("mixed.json", "{\"name\": \"\(a.name)\", \"bits\": 32, \"activation\": \"percentile\"}, {\"name\": \"\(b.name)\", \"bits\": 8, \"activation\": \"entropy\"}, {\"name\": \"\(c.name)\", \"bits\": 6, \"activation\": \"minmax\"}",
                              calibration: "measured")
        let result = weakspot("quantize", model, mixed, "--calibrate", data, "-o", folder + "/m.onnx", "-q")
        XCTAssertEqual(result.code, 0, result.error)
        XCTAssertTrue(result.output.hasPrefix("quantized 2 weight tensors (1 at 8 bits, 1 at 6 bits), 3 activations uint8"), result.output)
        let written = try ONNXModel.load(path: folder + "/m.onnx")
        let graph = try Importer.importGraph(try ONNXModel.load(path: model))
        let floatWeight = graph.values[a.weight].name
        XCTAssertEqual(written.graph.initializers.first { $0.name == floatWeight }?.dataType, .float, "the float-rung layer's weight is stored as it was")
        XCTAssertEqual(written.graph.nodes.filter { $0.opType == "QuantizeLinear" }.count, 3)
        // Each output by its layer's method: the activation scales differ from an all-minmax plan's exactly where the method does.
        let minmaxPath = try write("minmax.json", "{\"name\": \"\(a.name)\", \"bits\": 32, \"activation\": \"minmax\"}, {\"name\": \"\(b.name)\", \"bits\": 8}, {\"name\": \"\(c.name)\", \"bits\": 6}",
                                   calibration: "minmax")
        XCTAssertEqual(weakspot("quantize", model, minmaxPath, "--calibrate", data, "-o", folder + "/n.onnx", "-q").code, 0)
        let overridden = weakspot("quantize", model, mixed, "--calibrate", data, "--calibration", "minmax", "-o", folder + "/o.onnx", "-q")
        XCTAssertEqual(overridden.code, 0, overridden.error)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: folder + "/o.onnx")), try Data(contentsOf: URL(fileURLWithPath: folder + "/n.onnx")),
                       "--calibration minmax replaces every layer's method")
        let minmax = try ONNXModel.load(path: folder + "/n.onnx")
        func scale(_ m: ONNXModel, _ layer: QuantizableLayer) throws -> [Float] {
            let tails = try graph.channelTails()
            let name = graph.values[try XCTUnwrap(tails.first { $0.producer == layer.node }).end].name
            return try XCTUnwrap(m.graph.initializers.first { $0.name == name + "_scale" }).floats()
        }
        XCTAssertNotEqual(try scale(written, a), try scale(minmax, a), "percentile's range, not minmax's")
        XCTAssertEqual(try scale(written, c), try scale(minmax, c), "minmax as named")
    }

    func testMalformedPlansNameTheJSONPath() throws {
        let folder = try temporaryFolder(self)
        let cases: [(String, String)] = [
            ("{\"schema\": \"weakspot.plan/1\", \"groups\": []}", "schema: expected \"weakspot.quantize-plan/1\", got \"weakspot.plan/1\" (a pruning plan: apply it with weakspot prune)"),
            ("{\"schema\": \"weakspot.quantize-plan/1\"}", "layers: expected an array"),
            ("{\"schema\": \"weakspot.quantize-plan/1\", \"layers\": [{\"name\": \"a\", \"bits\": 8}, {\"name\": \"b\", \"bits\": \"8\"}]}", "layers[1].bits: expected an integer in 2...16, or 32 for a float layer, got \"8\""),
            ("{\"schema\": \"weakspot.quantize-plan/1\", \"layers\": [{\"bits\": 8}]}", "layers[0].name: expected a layer name"),
            ("{\"schema\": \"weakspot.quantize-plan/1\", \"layers\": [], \"granularity\": \"row\"}", "granularity: expected \"channel\" or \"tensor\", got \"row\""),
            ("{\"schema\": \"weakspot.quantize-plan/1\", \"layers\": [], \"activations\": {\"bits\": 99}}", "activations.bits: expected an integer in 2...16, got 99"),
            ("{\"schema\": \"weakspot.quantize-plan/1\", \"layers\": [], \"activations\": {\"bits\": 8, \"calibration\": \"bogus\"}}", "activations.calibration: expected one of minmax, percentile"),
            ("{\"schema\": \"weakspot.quantize-plan/1\", \"layers\": [{\"name\": \"no_such_layer\", \"bits\": 8}]}", "layer 'no_such_layer' is not a Conv, Gemm or MatMul with a constant weight in this model"),
            ("{\"schema\": \"weakspot.quantize-plan/1\", \"layers\": [], \"activations\": {\"bits\": 8}}", "layers: the plan quantizes no layer"),
            ("{\"schema\": \"weakspot.quantize-plan/1\", \"layers\": [{\"name\": \"a\", \"bits\": 8, \"activation\": \"bogus\"}], \"activations\": {\"bits\": 8}}",
             "layers[0].activation: expected null or one of minmax, percentile, entropy, got \"bogus\""),
            ("{\"schema\": \"weakspot.quantize-plan/1\", \"layers\": [{\"name\": \"a\", \"bits\": 32, \"activation\": \"minmax\"}], \"activations\": null}",
             "layers[0].activation: the plan quantizes no activations"),
            ("{\"schema\": \"weakspot.quantize-plan/1\", \"layers\": [{\"name\": \"a\", \"bits\": 8}], \"activations\": {\"bits\": 8, \"calibration\": \"measured\"}}",
             "layers[0].activation: expected the calibration of the layer's output (activations.calibration is measured"),
        ]
        for (i, (text, message)) in cases.enumerated() {
            let path = folder + "/plan\(i).json"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let result = weakspot("quantize", model, path, "-o", folder + "/q.onnx")
            XCTAssertEqual(result.code, 2, "\(text): \(result.error)")
            XCTAssertTrue(result.error.hasPrefix("error: ") && result.error.contains(path), "\(text): \(result.error)")
            XCTAssertTrue(result.error.contains(message), "\(text): expected '\(message)' in \(result.error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/q.onnx"))
    }

    func testOptionCombinationsAreChecked() throws {
        let folder = try temporaryFolder(self)
        let out = folder + "/q.onnx"
        let cases: [([String], String)] = [
            (["quantize", model, "-o", out], "expected a plan, or --bits B"),
            (["quantize", model, "--bits", "8", "--activations", "8", "-o", out], "quantized activations need --calibrate DATA"),
            (["quantize", model, "--bits", "8", "--calibrate", data, "-o", out], "--calibrate is read only when activations are quantized"),
            (["quantize", model, "--activations", "8", "--calibrate", data, "-o", out], "--activations goes with --bits"),
            (["quantize", model, "--bits", "1", "-o", out], "--bits: expected an integer in 2...16"),
            (["quantize", model, "--bits", "8"], "missing option '-o <model.qdq.onnx>'"),
            (["quantize", model, "--bits", "8", "--activations", "4", "--calibrate", data, "-o", out], "activations at 4 bits"),
        ]
        for (arguments, message) in cases {
            let result = weakspot(arguments)
            XCTAssertEqual(result.code, 2, "\(arguments): \(result.error)")
            XCTAssertTrue(result.error.contains(message), "\(arguments): expected '\(message)' in \(result.error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    /// `count` reports stored bytes: 4 per parameter for a float model; for the QDQ file, one byte
    /// per quantized weight plus 4 per scale and 1 per int8 zero point, the rest float32.
    func testCountGivesStoredBytes() throws {
        let folder = try temporaryFolder(self)
        XCTAssertEqual(weakspot("quantize", model, "--bits", "6", "-o", folder + "/q.onnx", "-q").code, 0)
        let float = try XCTUnwrap(try parseJSON(weakspot("count", model, "--format", "json").output)["totals"] as? [String: Any])
        let params = try XCTUnwrap(float["params"] as? Int)
        XCTAssertEqual(float["bytes"] as? Int, 4 * params)
        XCTAssertEqual(float["float32Bytes"] as? Int, 4 * params)
        let quantized = try XCTUnwrap(try parseJSON(weakspot("count", folder + "/q.onnx", "--format", "json").output)["totals"] as? [String: Any])
        XCTAssertEqual(quantized["params"] as? Int, params)
        let graph = try Importer.importGraph(try ONNXModel.load(path: model))
        var expected = 4 * params
        for layer in try layers() {
            let channels = graph.constants[layer.weight]!.shape[layer.axis]
            expected += layer.params + 4 * channels + channels - 4 * layer.params
        }
        XCTAssertEqual(quantized["bytes"] as? Int, expected)
        let table = weakspot("count", folder + "/q.onnx")
        XCTAssertEqual(table.code, 0, table.error)
        let line = table.output.split(separator: "\n")[1]
        XCTAssertTrue(line.hasPrefix("bytes: \(NumberText.grouped(expected)) stored (float32: "), String(line))
    }

    /// `gate --max-bytes` on a model reads count's stored bytes: the quantized file passes a
    /// bound the float model fails; a plan threshold on a model, or --max-bytes on a plan, is a
    /// usage error.
    func testGateMaxBytesReadsTheModel() throws {
        let folder = try temporaryFolder(self)
        XCTAssertEqual(weakspot("quantize", model, "--bits", "8", "-o", folder + "/q.onnx", "-q").code, 0)
        let stored = try XCTUnwrap(try parseJSON(weakspot("count", folder + "/q.onnx", "--format", "json").output)["totals"] as? [String: Any])["bytes"] as? Int
        let bound = String(try XCTUnwrap(stored))
        let pass = weakspot("gate", folder + "/q.onnx", "--max-bytes", bound)
        XCTAssertEqual(pass.code, 0, pass.error)
        XCTAssertEqual(pass.output, "ok   weight bytes: \(NumberText.grouped(stored!)) (must be ≤ \(NumberText.grouped(stored!)))\n")
        let oneLess = weakspot("gate", folder + "/q.onnx", "--max-bytes", String(stored! - 1))
        XCTAssertEqual(oneLess.code, 1, oneLess.error)
        let fail = weakspot("gate", model, "--max-bytes", bound, "--json")
        XCTAssertEqual(fail.code, 1, fail.error)
        XCTAssertEqual(try parseJSON(fail.output)["kind"] as? String, "model")
        let misuse = weakspot("gate", model, "--max-kl", "1")
        XCTAssertEqual(misuse.code, 2)
        XCTAssertTrue(misuse.error.contains("--max-kl applies to plans; \(model) is a model"), misuse.error)
        let plan = folder + "/plan.json"
        try "{\"schema\": \"weakspot.plan/1\"}".write(toFile: plan, atomically: true, encoding: .utf8)
        let onPlan = weakspot("gate", plan, "--max-bytes", "1")
        XCTAssertEqual(onPlan.code, 2)
        XCTAssertTrue(onPlan.error.contains("--max-bytes applies to quantization plans and models"), onPlan.error)
    }
}
