import DataInput
import Foundation
import TestSupport
import XCTest

/// `profile --perturb quantize:…` then `plan --quantize` from the command line: the report's
/// bits table, the plan document, and the requests that are refused with exit 2.
final class QuantizationPlanCommandTests: XCTestCase {
    let model = FixturePaths.path("models/tiny_mobilenet.onnx")
    let data = FixturePaths.path("models/tiny_mobilenet.input.npy")

    func plan(_ path: String) throws -> [String: Any] { try parseJSON(try String(contentsOfFile: path, encoding: .utf8)) }

    func testSweepThenPlan() throws {
        let folder = try temporaryFolder(self)
        let report = folder + "/r.json"
        let profiled = weakspot("profile", model, "--data", data, "--items", "layers", "--perturb", "quantize:2,8,4",
                                "--quantize-granularity", "tensor", "-o", report, "--html", folder + "/r.html", "--quiet")
        XCTAssertEqual(profiled.code, 0, profiled.error)
        // The heat map: a row per layer, a shaded cell per width.
        let html = try String(contentsOfFile: folder + "/r.html", encoding: .utf8)
        let section = try XCTUnwrap(html.range(of: "<section id=\"quantization\">").map { String(html[$0.lowerBound...]) })
        let table = String(section[..<section.range(of: "</section>")!.lowerBound])
        XCTAssertEqual(table.components(separatedBy: "<tr>").count - 1, 17, "a header row and 16 layers")
        XCTAssertEqual(table.components(separatedBy: "background: #").count - 1, 48, "16 layers × 3 widths")
        let r = try plan(report)
        XCTAssertEqual((r["settings"] as? [String: Any])?["quantizeGranularity"] as? String, "tensor")
        XCTAssertEqual((r["settings"] as? [String: Any])?["perturb"] as? String, "quantize:8,4,2")
        let items = try XCTUnwrap(r["items"] as? [[String: Any]])
        XCTAssertEqual(items.count, 16)
        for item in items {
            let sweep = try XCTUnwrap(item["sweep"] as? [[String: Any]])
            XCTAssertEqual(sweep.compactMap { $0["bits"] as? Int }, [8, 4, 2])
            let kl = sweep.compactMap { $0["kl"] as? Double }
            XCTAssertEqual(kl.count, 3)
            XCTAssertLessThanOrEqual(sweep[0]["ciLow"] as? Double ?? .infinity, kl[0] + 1e-12)
        }

        let out = folder + "/q.json"
        let planned = weakspot("plan", model, report, "--quantize", "--target", "bits=5", "--data", data, "--quantize-activations", "8",
                               "--calibrate", data, "--calibration", "minmax", "--threads", "2", "-o", out)
        XCTAssertEqual(planned.code, 0, planned.error)
        XCTAssertTrue(planned.output.contains("average bits per weight: 32.00 → "), planned.output)
        let p = try plan(out)
        XCTAssertEqual(p["schema"] as? String, "weakspot.quantize-plan/1")
        XCTAssertEqual(p["granularity"] as? String, "tensor", "the report's granularity")
        XCTAssertEqual((p["activations"] as? [String: Any])?["bits"] as? Int, 8)
        XCTAssertLessThanOrEqual(try XCTUnwrap(p["bitsAfter"] as? Double), 5)
        XCTAssertEqual(p["targetMet"] as? Bool, true)
        XCTAssertNotNil((p["measured"] as? [String: Any])?["kl"] as? Double)
        let bits = try XCTUnwrap(p["layers"] as? [[String: Any]]).compactMap { $0["bits"] as? Int }
        XCTAssertEqual(bits.count, 16)
        XCTAssertTrue(Set(bits).isSubset(of: [8, 4, 2]), "\(bits)")

        // Gates on the quantization plan: bytes, measured damage, target; pruning thresholds refused.
        let bytes = try XCTUnwrap(p["bytesAfter"] as? Int)
        let pass = weakspot("gate", out, "--max-kl", "1000", "--max-bytes", String(bytes), "--require-target")
        XCTAssertEqual(pass.code, 0, pass.output + pass.error)
        let fail = weakspot("gate", out, "--max-bytes", String(bytes - 1))
        XCTAssertEqual(fail.code, 1, fail.output + fail.error)
        XCTAssertTrue(fail.output.contains("FAIL bytes"), fail.output)
        let foreign = weakspot("gate", out, "--min-macs-saved", "0.1")
        XCTAssertEqual(foreign.code, 2)
        XCTAssertTrue(foreign.error.contains("--min-macs-saved applies to pruning plans"), foreign.error)

        let proxy = weakspot("plan", model, report, "--quantize", "--target", "bits=5", "--criterion", "mse", "-o", folder + "/m.json", "--quiet")
        XCTAssertEqual(proxy.code, 0, proxy.error)
        XCTAssertEqual((try plan(folder + "/m.json")["settings"] as? [String: Any])?["criterion"] as? String, "mse")
    }

    /// `--float-rung` and `--calibration measured` from the command line: a budget between float
    /// and int8 keeps some layers float, every measured layer's output is quantized with its
    /// recorded calibrator, and `quantize` writes the plan with `count` giving the plan's stored
    /// bytes (float layers 4 per weight).
    func testFloatRungAndMeasuredCalibration() throws {
        let folder = try temporaryFolder(self)
        let report = folder + "/r.json", out = folder + "/q.json"
        XCTAssertEqual(weakspot("profile", model, "--data", data, "--items", "layers", "--perturb", "quantize:8,4,2", "-o", report, "--quiet").code, 0)
        let planned = weakspot("plan", model, report, "--quantize", "--target", "bits=12", "--float-rung", "--data", data, "--quantize-activations", "8",
                               "--calibrate", data, "--calibration", "measured", "--threads", "2", "-o", out)
        XCTAssertEqual(planned.code, 0, planned.error)
        XCTAssertTrue(planned.output.contains("activations at 8 bits (measured: "), planned.output)
        XCTAssertTrue(planned.error.contains("plan: calibration measured: "), planned.error)
        let p = try plan(out)
        XCTAssertEqual((p["activations"] as? [String: Any])?["calibration"] as? String, "measured")
        XCTAssertEqual((p["settings"] as? [String: Any])?["floatRung"] as? Bool, true)
        let layers = try XCTUnwrap(p["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.count, 16)
        let bits = layers.compactMap { $0["bits"] as? Int }
        XCTAssertTrue(bits.contains(32) && bits.contains { $0 < 32 }, "some layers float, some quantized: \(bits)")
        XCTAssertTrue(Set(bits).isSubset(of: [32, 8, 4, 2]), "\(bits)")
        XCTAssertLessThanOrEqual(try XCTUnwrap(p["bitsAfter"] as? Double), 12)
        let methods = layers.compactMap { $0["activation"] as? String }
        XCTAssertEqual(methods.count, 16, "every measured layer's output is quantized, float-rung layers' too")
        XCTAssertTrue(Set(methods).isSubset(of: ["minmax", "percentile", "entropy"]), "\(methods)")
        let stored = try XCTUnwrap(p["storedBytesAfter"] as? Int)
        let exported = weakspot("quantize", model, out, "--calibrate", data, "-o", folder + "/q.onnx")
        XCTAssertEqual(exported.code, 0, exported.error)
        let quantized = bits.filter { $0 < 32 }.count
        XCTAssertTrue(exported.output.hasPrefix("quantized \(quantized) weight tensors"), exported.output)
        XCTAssertTrue(exported.output.contains(", 16 activations uint8"), exported.output)
        let counted = try XCTUnwrap(try parseJSON(weakspot("count", folder + "/q.onnx", "--format", "json").output)["totals"] as? [String: Any])
        XCTAssertEqual(counted["bytes"] as? Int, stored, "count on the file: the plan's storedBytesAfter")
        XCTAssertEqual(weakspot("gate", out, "--max-bytes", String(try XCTUnwrap(p["bytesAfter"] as? Int))).code, 0)
    }

    func testRefusals() throws {
        let folder = try temporaryFolder(self)
        let report = folder + "/r.json", channels = folder + "/c.json"
        XCTAssertEqual(weakspot("profile", model, "--data", data, "--items", "layers", "--perturb", "quantize:8,4", "-o", report, "--quiet").code, 0)
        XCTAssertEqual(weakspot("profile", model, "--data", data, "-o", channels, "--quiet").code, 0)
        let cases: [([String], String)] = [
            ([model, report, "--quantize", "--target", "macs=0.5"], "--target bits=B"),
            ([model, report, "--target", "bits=4"], "add --quantize"),
            ([model, report, "--quantize", "--target", "bits=4", "--criterion", "l1"], "--criterion measured"),
            ([model, report, "--quantize", "--target", "bits=4", "--quantize-activations", "8"], "give --data"),
            ([model, report, "--quantize", "--target", "bits=3"], "out of reach"),
            ([model, channels, "--quantize", "--target", "bits=4"], "quantize:8,6,4"),
            ([model, report, "--quantize", "--target", "bits=x"], "bits=B"),
            ([model, report, "--quantize", "--target", "bits=4", "--steps", "2"], "--steps"),
            ([model, report, "--target", "macs=0.5", "--float-rung"], "--float-rung is a rung of the bits ladder: add --quantize"),
            ([model, report, "--quantize", "--target", "bits=4", "--data", data, "--calibration", "measured"], "--calibration measured chooses each activation's calibrator"),
        ]
        for (arguments, expected) in cases {
            let r = weakspot(["plan"] + arguments + ["-o", folder + "/p.json", "--quiet"])
            XCTAssertEqual(r.code, 2, "\(arguments): \(r.error)")
            XCTAssertTrue(r.error.contains(expected), "\(arguments): expected '\(expected)' in: \(r.error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/p.json"), "nothing written on refusal")
        let profileCases: [([String], String)] = [
            (["--items", "layers", "--perturb", "quantize:8", "--quantize-target", "activations"], "give --calibrate"),
            (["--items", "layers", "--calibrate", data], "--calibrate gives activation ranges"),
            (["--items", "channels", "--perturb", "quantize:8", "--quantize-target", "both", "--calibrate", data], "use --items layers"),
        ]
        for (arguments, expected) in profileCases {
            let r = weakspot(["profile", model, "--data", data] + arguments + ["-o", folder + "/x.json", "--quiet"])
            XCTAssertEqual(r.code, 2, "\(arguments): \(r.error)")
            XCTAssertTrue(r.error.contains(expected), "\(arguments): expected '\(expected)' in: \(r.error)")
        }
        let both = weakspot("profile", model, "--data", data, "--items", "layers", "--perturb", "quantize:8,4", "--quantize-target", "both",
                            "--calibrate", data, "--layers", "/stem*,/fc*", "-o", folder + "/both.json", "--quiet")
        XCTAssertEqual(both.code, 0, both.error)
        let settings = try XCTUnwrap(try plan(folder + "/both.json")["settings"] as? [String: Any])
        XCTAssertEqual(settings["quantizeTarget"] as? String, "both")
        XCTAssertEqual(settings["calibrate"] as? String, data)
        // The float rung gives a float weight no damage: true of a weights sweep, not of one that rounds activations too.
        let rungOnBoth = weakspot("plan", model, folder + "/both.json", "--quantize", "--target", "bits=8", "--float-rung", "-o", folder + "/p.json", "--quiet")
        XCTAssertEqual(rungOnBoth.code, 2, rungOnBoth.error)
        XCTAssertTrue(rungOnBoth.error.contains("--float-rung gives a float weight no damage"), rungOnBoth.error)
        let badBits = weakspot("profile", model, "--data", data, "--perturb", "quantize:8,1", "-o", folder + "/x.json", "--quiet")
        XCTAssertEqual(badBits.code, 2)
        XCTAssertTrue(badBits.error.contains("'1'"), badBits.error)
    }
}

/// The whole path a user takes: sweep, plan, `quantize`, then run the QDQ file. The file's
/// outputs give exactly the KL the plan measured (it is the same model), and `count` stores the
/// bytes the plan said the file would take.
final class QuantizationEndToEndTests: XCTestCase {
    func testExportedModelIsThePlannedOne() throws {
        let model = FixturePaths.path("models/tiny_resnet.onnx"), data = FixturePaths.path("models/tiny_resnet.input.npy")
        let folder = try temporaryFolder(self)
        XCTAssertEqual(weakspot("profile", model, "--data", data, "--items", "layers", "--perturb", "quantize:8,4,2", "-o", folder + "/r.json", "--quiet").code, 0)
        let planned = weakspot("plan", model, folder + "/r.json", "--quantize", "--target", "bits=5", "--data", data, "-o", folder + "/q.json", "--quiet")
        XCTAssertEqual(planned.code, 0, planned.error)
        let plan = try parseJSON(try String(contentsOfFile: folder + "/q.json", encoding: .utf8))
        let measured = try XCTUnwrap((plan["measured"] as? [String: Any])?["kl"] as? Double)
        let stored = try XCTUnwrap(plan["storedBytesAfter"] as? Int)
        XCTAssertLessThan(try XCTUnwrap(plan["bytesAfter"] as? Int), stored, "packed widths below 8 bits take less than the int8 file")
        let exported = weakspot("quantize", model, folder + "/q.json", "-o", folder + "/q.onnx")
        XCTAssertEqual(exported.code, 0, exported.error)
        let counted = weakspot("count", folder + "/q.onnx")
        XCTAssertTrue(counted.output.contains("bytes: \(NumberTextForTests.grouped(stored)) stored"), "plan said \(stored): \(counted.output)")
        for (m, out) in [(model, "original.npy"), (folder + "/q.onnx", "quantized.npy")] {
            XCTAssertEqual(weakspot("run", m, "--data", data, "-o", folder + "/" + out, "--quiet").code, 0)
        }
        let a = try NPYArray.read(path: folder + "/original.npy").floats(), b = try NPYArray.read(path: folder + "/quantized.npy").floats()
        var kl = 0.0
        for r in 0..<(a.count / 10) {
            func logSoftmax(_ x: ArraySlice<Float>) -> [Double] {
                let m = Double(x.max()!), s = x.reduce(0.0) { $0 + exp(Double($1) - m) }
                return x.map { Double($0) - m - log(s) }
            }
            let p = logSoftmax(a[(r * 10)..<((r + 1) * 10)]), q = logSoftmax(b[(r * 10)..<((r + 1) * 10)])
            kl += zip(p, q).reduce(0.0) { $0 + exp($1.0) * ($1.0 - $1.1) } / Double(a.count / 10)
        }
        XCTAssertGreaterThan(kl, 0)
        XCTAssertEqual(kl, measured, accuracy: 1e-9 * max(kl, 1e-12) + 1e-12, "the exported file's KL vs the plan's measurement")
    }
}

/// Digits grouped by commas, as `count` prints them.
enum NumberTextForTests {
    static func grouped(_ n: Int) -> String {
        let digits = String(n)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return out
    }
}
