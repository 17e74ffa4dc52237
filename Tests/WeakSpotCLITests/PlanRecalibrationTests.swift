import DataInput
import Foundation
import TestSupport
import XCTest

/// `plan --recalibrate N`: candidates are measured after BatchNormalization recalibration. The
/// measured KL of the plan equals, to rounding, the KL of the model `prune --recalibrate N` writes
/// for that plan (run and compared here from the logits), so the masked, recalibrated
/// verification is the pruned, recalibrated model; and it differs from the raw measurement.
final class PlanRecalibrationTests: XCTestCase {
    let model = FixturePaths.path("models/tiny_resnet.onnx")
    let data = FixturePaths.path("models/tiny_resnet.input.npy")

    func measuredKL(_ path: String) throws -> Double {
        let plan = try parseJSON(try String(contentsOfFile: path, encoding: .utf8))
        return try XCTUnwrap((plan["measured"] as? [String: Any])?["kl"] as? Double)
    }

    /// Mean over inputs of KL(softmax(a) ‖ softmax(b)), rows of `classes` logits.
    func meanKL(_ a: [Float], _ b: [Float], classes: Int) -> Double {
        var total = 0.0
        let rows = a.count / classes
        for r in 0..<rows {
            func logSoftmax(_ x: ArraySlice<Float>) -> [Double] {
                let m = Double(x.max()!), s = x.reduce(0.0) { $0 + exp(Double($1) - m) }
                return x.map { Double($0) - m - log(s) }
            }
            let p = logSoftmax(a[(r * classes)..<((r + 1) * classes)]), q = logSoftmax(b[(r * classes)..<((r + 1) * classes)])
            total += zip(p, q).reduce(0.0) { $0 + exp($1.0) * ($1.0 - $1.1) }
        }
        return total / Double(rows)
    }

    func testRecalibratedVerificationIsThePrunedRecalibratedModel() throws {
        let folder = try temporaryFolder(self)
        let report = folder + "/r.json"
        let profiled = weakspot("profile", model, "--data", data, "--items", "groups", "--estimators", "l1", "-o", report, "--quiet")
        XCTAssertEqual(profiled.code, 0, profiled.error)
        let common = [model, report, "--target", "macs=0.7", "--criterion", "l1", "--data", data, "--batch", "2", "--threads", "2", "--quiet"]
        let raw = weakspot(["plan"] + common + ["-o", folder + "/raw.json"])
        XCTAssertEqual(raw.code, 0, raw.error)
        let recal = weakspot(["plan"] + common + ["--recalibrate", "4", "-o", folder + "/recal.json"])
        XCTAssertEqual(recal.code, 0, recal.error)
        let plan = try parseJSON(try String(contentsOfFile: folder + "/recal.json", encoding: .utf8))
        XCTAssertEqual((plan["settings"] as? [String: Any])?["recalibrate"] as? Int, 4)
        XCTAssertNotEqual(try measuredKL(folder + "/raw.json"), try measuredKL(folder + "/recal.json"), "recalibration changes the measurement")

        let pruned = weakspot("prune", model, folder + "/recal.json", "-o", folder + "/pruned.onnx", "--recalibrate", "4", "--data", data, "--batch", "2")
        XCTAssertEqual(pruned.code, 0, pruned.error)
        for (m, out) in [(model, "original.npy"), (folder + "/pruned.onnx", "pruned.npy")] {
            let run = weakspot("run", m, "--data", data, "-o", folder + "/" + out, "--quiet")
            XCTAssertEqual(run.code, 0, run.error)
        }
        let original = try NPYArray.read(path: folder + "/original.npy"), after = try NPYArray.read(path: folder + "/pruned.npy")
        let kl = meanKL(original.floats(), after.floats(), classes: original.shape.last!)
        let measured = try measuredKL(folder + "/recal.json")
        XCTAssertGreaterThan(kl, 0)
        print("plan --recalibrate measured KL \(measured), pruned and recalibrated model \(kl), raw \(try measuredKL(folder + "/raw.json"))")
        XCTAssertLessThan(abs(measured - kl) / kl, 1e-3, "plan's recalibrated measurement \(measured) vs the pruned, recalibrated model \(kl)")
    }

    /// KL of `prune --recalibrate 4 [extra]`'s model against the original, and plan's measured KL
    /// with the same options.
    func planAndPrune(model: String, data: String, extra: [String], folder: String, name: String) throws -> (measured: Double, pruned: Double) {
        let report = folder + "/\(name).report.json"
        let profiled = weakspot("profile", model, "--data", data, "--items", "groups", "--estimators", "l1", "--measure", "none", "-o", report, "--quiet")
        XCTAssertEqual(profiled.code, 0, profiled.error)
        let planPath = folder + "/\(name).plan.json"
        let planned = weakspot(["plan", model, report, "--target", "macs=0.7", "--criterion", "l1", "--data", data, "--batch", "2", "--threads", "2",
                                "--recalibrate", "4", "-o", planPath, "--quiet"] + extra)
        XCTAssertEqual(planned.code, 0, planned.error)
        let prunedPath = folder + "/\(name).pruned.onnx"
        let pruned = weakspot(["prune", model, planPath, "-o", prunedPath, "--recalibrate", "4", "--data", data, "--batch", "2"] + extra)
        XCTAssertEqual(pruned.code, 0, pruned.error)
        XCTAssertTrue(pruned.output.contains("matched the statistics of"), pruned.output)
        for (m, out) in [(model, "\(name).original.npy"), (prunedPath, "\(name).pruned.npy")] {
            let run = weakspot("run", m, "--data", data, "-o", folder + "/" + out, "--quiet")
            XCTAssertEqual(run.code, 0, run.error)
        }
        let original = try NPYArray.read(path: folder + "/\(name).original.npy"), after = try NPYArray.read(path: folder + "/\(name).pruned.npy")
        return (try measuredKL(planPath), meanKL(original.floats(), after.floats(), classes: original.shape.last!))
    }

    /// `--recalibration match` on a model whose convolutions feed BatchNormalization: the
    /// corrections go into the BatchNormalization constants, and plan's measurement is the file.
    func testMatchedVerificationIsThePrunedMatchedModel() throws {
        let folder = try temporaryFolder(self)
        let (measured, kl) = try planAndPrune(model: model, data: data, extra: ["--recalibration", "match"], folder: folder, name: "match")
        XCTAssertGreaterThan(kl, 0)
        XCTAssertLessThan(abs(measured - kl) / kl, 1e-3, "plan's matched measurement \(measured) vs the pruned, matched model \(kl)")
        let plan = try parseJSON(try String(contentsOfFile: folder + "/match.plan.json", encoding: .utf8))
        XCTAssertEqual((plan["settings"] as? [String: Any])?["recalibration"] as? String, "match")
    }

    /// A BN-folded model (no BatchNormalization): `--recalibrate N` matches statistics by default,
    /// writing weights and biases; `--recalibration estimate` is refused naming the alternative.
    func testFoldedModelIsMatchedByDefault() throws {
        let folded = FixturePaths.path("models/mobilenet_v2.onnx"), input = FixturePaths.path("models/mobilenet_v2.input.npy")
        let folder = try temporaryFolder(self)
        let (measured, kl) = try planAndPrune(model: folded, data: input, extra: [], folder: folder, name: "folded")
        XCTAssertGreaterThan(kl, 0)
        XCTAssertLessThan(abs(measured - kl) / kl, 1e-3, "plan's matched measurement \(measured) vs the pruned, matched model \(kl)")
        let estimate = weakspot("prune", folded, folder + "/folded.plan.json", "-o", folder + "/e.onnx", "--recalibrate", "4", "--data", input,
                                "--recalibration", "estimate")
        XCTAssertEqual(estimate.code, 2)
        XCTAssertTrue(estimate.error.contains("match"), estimate.error)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/e.onnx"))
        let noCount = weakspot("prune", folded, folder + "/folded.plan.json", "-o", folder + "/n.onnx", "--recalibration", "match")
        XCTAssertEqual(noCount.code, 2)
        XCTAssertTrue(noCount.error.contains("--recalibration chooses how --recalibrate N recalibrates"), noCount.error)
    }

    func testRefusals() throws {
        let folder = try temporaryFolder(self)
        let report = folder + "/r.json"
        XCTAssertEqual(weakspot("profile", model, "--data", data, "--items", "groups", "-o", report, "--quiet").code, 0)
        let noData = weakspot("plan", model, report, "--target", "macs=0.8", "--recalibrate", "4", "-o", folder + "/p.json", "--quiet")
        XCTAssertEqual(noData.code, 2)
        XCTAssertTrue(noData.error.contains("--recalibrate measures candidates after recalibrating"), noData.error)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/p.json"))
    }
}
