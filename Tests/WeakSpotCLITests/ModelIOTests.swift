import DataInput
import Foundation
import TestSupport
import WeakSpotCLI
import XCTest

/// The inputs and outputs of the models people bring (issue 15, item 5): several inputs, several
/// outputs, symbolic H/W, and Softmax-ended models. Fixtures from make_softmax_oracle.py.
final class ModelIOTests: XCTestCase {
    func io(_ name: String) -> String { FixturePaths.path("io/\(name)") }

    func testTwoInputModelIsRefusedNamingBothInputs() {
        let result = weakspot("run", io("two_inputs.onnx"), "--data", io("two_inputs.input.npy"))
        XCTAssertEqual(result.code, 2, result.error)
        XCTAssertTrue(result.error.contains("'image' (Nx3x8x8 float)"), result.error)
        XCTAssertTrue(result.error.contains("'bias' (1x4x1x1 float)"), result.error)
        XCTAssertTrue(result.error.contains("--input NAME=FILE"), result.error)
        XCTAssertFalse(result.error.contains("neither known nor computed"), result.error)
    }

    func testInputOptionFeedsTheSecondInputAndEqualsONNXRuntime() throws {
        let folder = try temporaryFolder(self)
        let result = weakspot("run", io("two_inputs.onnx"), "--data", io("two_inputs.input.npy"),
                              "--input", "bias=" + io("two_inputs.bias.npy"), "-o", folder + "/out.npy", "--quiet")
        XCTAssertEqual(result.code, 0, result.error)
        let ours = try NPYArray.read(path: folder + "/out.npy")
        let reference = try NPYArray.read(path: io("two_inputs.logits.npy"))
        XCTAssertEqual(ours.shape, [3, 3])
        if let problem = mismatch(ours.floats(), reference.floats(), .relativeToPeak(1e-5)) { XCTFail(problem) }
        // The fed value really matters: a zero bias gives other logits.
        let zeros = folder + "/zeros.npy"
        try NPYArray(shape: [1, 4, 1, 1], floats: [0, 0, 0, 0]).write(path: zeros)
        let other = weakspot("run", io("two_inputs.onnx"), "--data", io("two_inputs.input.npy"), "--input", "bias=" + zeros,
                             "-o", folder + "/zero.npy", "--quiet")
        XCTAssertEqual(other.code, 0, other.error)
        XCTAssertNotNil(mismatch(try NPYArray.read(path: folder + "/zero.npy").floats(), reference.floats(), .relativeToPeak(1e-3)))
    }

    func testInputErrors() throws {
        let folder = try temporaryFolder(self)
        let wrongShape = folder + "/wrong.npy"
        try NPYArray(shape: [1, 3, 1, 1], floats: [0, 0, 0]).write(path: wrongShape)
        let cases: [([String], String)] = [
            (["--input", "bais=" + io("two_inputs.bias.npy")], "no input of that name"),
            (["--input", "bias=" + wrongShape], "expected a value shaped 1x4x1x1, got 1x3x1x1"),
            (["--input", "bias"], "expected NAME=FILE.npy"),
            (["--input", "bias=" + folder + "/missing.npy"], "missing.npy"),
        ]
        XCTAssertEqual(cases.count, 4)
        for (extra, expected) in cases {
            let result = weakspot(["run", io("two_inputs.onnx"), "--data", io("two_inputs.input.npy")] + extra)
            XCTAssertEqual(result.code, 2, "\(extra): \(result.error)")
            XCTAssertTrue(result.error.contains(expected), "\(extra): \(result.error)")
        }
    }

    func testSeveralOutputsUseTheFirstAndSaySo() throws {
        let folder = try temporaryFolder(self)
        let result = weakspot("run", io("two_outputs.onnx"), "--data", io("two_outputs.input.npy"), "-o", folder + "/out.npy")
        XCTAssertEqual(result.code, 0, result.error)
        XCTAssertTrue(result.error.contains("2 outputs ('features', 'logits'); using 'features' (the first; choose with --output-name)"), result.error)
        let reference = try NPYArray.read(path: io("two_outputs.features.npy"))
        if let problem = mismatch(try NPYArray.read(path: folder + "/out.npy").floats(), reference.floats(), .relativeToPeak(1e-5)) { XCTFail(problem) }
    }

    func testOutputNameSelects() throws {
        let folder = try temporaryFolder(self)
        let result = weakspot("run", io("two_outputs.onnx"), "--data", io("two_outputs.input.npy"), "--output-name", "logits",
                              "-o", folder + "/out.npy")
        XCTAssertEqual(result.code, 0, result.error)
        XCTAssertTrue(result.error.contains("using 'logits'"), result.error)
        let ours = try NPYArray.read(path: folder + "/out.npy")
        XCTAssertEqual(ours.shape, [3, 3])
        let reference = try NPYArray.read(path: io("two_outputs.logits.npy"))
        if let problem = mismatch(ours.floats(), reference.floats(), .relativeToPeak(1e-5)) { XCTFail(problem) }
        // profile measures the chosen output too.
        let report = folder + "/r.json"
        let profile = weakspot("profile", io("two_outputs.onnx"), "--data", io("two_outputs.input.npy"), "--output-name", "logits",
                               "-o", report, "--quiet", "--bootstrap", "10")
        XCTAssertEqual(profile.code, 0, profile.error)
        XCTAssertEqual(try validatedReport(report)["model"]?["output"]?.stringValue, "logits")
    }

    func testOutputNameTypoListsTheOutputs() {
        let result = weakspot("run", io("two_outputs.onnx"), "--data", io("two_outputs.input.npy"), "--output-name", "logit")
        XCTAssertEqual(result.code, 2, result.error)
        XCTAssertTrue(result.error.contains("--output-name logit: the model has no output of that name; its outputs are 'features', 'logits'"), result.error)
    }

    func testSymbolicHeightAndWidthTakeTheShapeOfNPYData() throws {
        let folder = try temporaryFolder(self)
        let result = weakspot("run", io("symbolic_hw.onnx"), "--data", io("symbolic_hw.input.npy"), "-o", folder + "/out.npy", "--quiet")
        XCTAssertEqual(result.code, 0, result.error)
        let reference = try NPYArray.read(path: io("symbolic_hw.logits.npy"))
        if let problem = mismatch(try NPYArray.read(path: folder + "/out.npy").floats(), reference.floats(), .relativeToPeak(1e-5)) { XCTFail(problem) }
    }

    func testSymbolicHeightAndWidthFromImageCrop() throws {
        let images = FixturePaths.path("demo/images")
        let run = weakspot("run", io("symbolic_hw.onnx"), "--data", images, "--resize", "40", "--crop", "32", "--format", "json", "--quiet")
        XCTAssertEqual(run.code, 0, run.error)
        XCTAssertEqual(try parseJSON(run.output)["count"] as? Int, 9)
        let folder = try temporaryFolder(self)
        let profile = weakspot("profile", io("symbolic_hw.onnx"), "--data", images, "--resize", "40", "--crop", "32",
                               "-o", folder + "/r.json", "--quiet", "--bootstrap", "10")
        XCTAssertEqual(profile.code, 0, profile.error)
        let shape = try validatedReport(folder + "/r.json")["model"]?["inputShape"]?.arrayValue?.compactMap(\.intValue)
        XCTAssertEqual(shape, [1, 3, 32, 32])
        // Nothing says the size: the error asks for it.
        let synthetic = weakspot("run", io("symbolic_hw.onnx"), "--data", "synthetic:2")
        XCTAssertEqual(synthetic.code, 2, synthetic.error)
        XCTAssertTrue(synthetic.error.contains("--input-shape"), synthetic.error)
    }

    func testSoftmaxModelProfileRecordsProbabilitiesAndRunSaysSo() throws {
        let folder = try temporaryFolder(self)
        let run = weakspot("run", io("softmax_cnn.onnx"), "--data", io("softmax_cnn.input.npy"), "--top", "1", "--quiet")
        XCTAssertEqual(run.code, 0, run.error)
        XCTAssertTrue(run.output.contains("model output: probabilities (the model ends in Softmax)"), run.output)
        let overridden = weakspot("run", io("softmax_cnn.onnx"), "--data", io("softmax_cnn.input.npy"), "--output-kind", "logits",
                                  "--format", "json", "--quiet")
        XCTAssertEqual(overridden.code, 0, overridden.error)
        XCTAssertEqual(try parseJSON(overridden.output)["outputKind"] as? String, "logits")

        var kl: [String: Double] = [:]
        for kind in ["auto", "logits"] {
            let report = folder + "/\(kind).json"
            let result = weakspot("profile", io("softmax_cnn.onnx"), "--data", io("softmax_cnn.input.npy"), "--output-kind", kind,
                                  "-o", report, "--quiet", "--bootstrap", "10")
            XCTAssertEqual(result.code, 0, result.error)
            let document = try validatedReport(report)
            XCTAssertEqual(document["model"]?["outputKind"]?.stringValue, kind == "auto" ? "probs" : "logits")
            let items = try XCTUnwrap(document["items"]?.arrayValue)
            XCTAssertEqual(items.count, 26)
            kl[kind] = items.compactMap { $0["metrics"]?["kl"]?.doubleValue }.reduce(0, +)
        }
        XCTAssertGreaterThan(try XCTUnwrap(kl["auto"]), 3 * (try XCTUnwrap(kl["logits"])), "probabilities read as logits shrink every KL")
        let bad = weakspot("profile", io("softmax_cnn.onnx"), "--data", io("softmax_cnn.input.npy"), "--output-kind", "softmax", "-o", folder + "/x.json")
        XCTAssertEqual(bad.code, 2, bad.error)
        XCTAssertTrue(bad.error.contains("expected auto, logits, probs or log-probs"), bad.error)
    }

    /// plan on a Softmax-ended model measures KL on the probabilities: equal to the KL between
    /// the original's and the pruned model's probabilities as `run` gives them.
    func testPlanOnSoftmaxModelMeasuresKLOnProbabilities() throws {
        let folder = try temporaryFolder(self)
        let model = io("softmax_cnn.onnx"), data = io("softmax_cnn.input.npy")
        let profile = weakspot("profile", model, "--data", data, "--items", "groups", "-o", folder + "/r.json", "--quiet", "--bootstrap", "10")
        XCTAssertEqual(profile.code, 0, profile.error)
        let plan = weakspot("plan", model, folder + "/r.json", "--target", "params=0.7", "--data", data, "-o", folder + "/plan.json", "--quiet")
        XCTAssertEqual(plan.code, 0, plan.error)
        let prune = weakspot("prune", model, folder + "/plan.json", "-o", folder + "/pruned.onnx")
        XCTAssertEqual(prune.code, 0, prune.error)
        for (name, path) in [("base", model), ("pruned", folder + "/pruned.onnx")] {
            let run = weakspot("run", path, "--data", data, "-o", folder + "/\(name).npy", "--quiet")
            XCTAssertEqual(run.code, 0, run.error)
        }
        let p = try NPYArray.read(path: folder + "/base.npy").floats().map(Double.init)
        let q = try NPYArray.read(path: folder + "/pruned.npy").floats().map(Double.init)
        XCTAssertEqual(p.count, 48)
        XCTAssertEqual(q.count, 48)
        var kl = 0.0
        for n in 0..<8 {
            let pr = p[n * 6 ..< n * 6 + 6], qr = q[n * 6 ..< n * 6 + 6]
            let (ps, qs) = (pr.reduce(0, +), qr.reduce(0, +))
            kl += zip(pr, qr).reduce(0.0) { $0 + ($1.0 / ps) * log(($1.0 / ps) / ($1.1 / qs)) } / 8
        }
        XCTAssertGreaterThan(kl, 1e-4, "the plan removes something that matters")
        let measured = try XCTUnwrap(((try parseJSON(try String(contentsOfFile: folder + "/plan.json", encoding: .utf8)))["measured"] as? [String: Any])?["kl"] as? Double)
        XCTAssertEqual(measured, kl, accuracy: 1e-4 * kl)
    }

    func testFinetuneTrainsThroughTheModelsSoftmax() throws {
        let folder = try temporaryFolder(self)
        try "0\n1\n2\n3\n4\n5\n2\n4\n".write(toFile: folder + "/labels.txt", atomically: true, encoding: .utf8)
        let result = weakspot("finetune", io("softmax_cnn.onnx"), "--data", io("softmax_cnn.input.npy"), "--labels", folder + "/labels.txt",
                              "--epochs", "1", "--batch", "4", "--augment", "none", "-o", folder + "/tuned.onnx", "--quiet")
        XCTAssertEqual(result.code, 0, result.error)
        // The written model still ends in Softmax: run reads probabilities from it.
        let run = weakspot("run", folder + "/tuned.onnx", "--data", io("softmax_cnn.input.npy"), "--format", "json", "--quiet")
        XCTAssertEqual(run.code, 0, run.error)
        XCTAssertEqual(try parseJSON(run.output)["outputKind"] as? String, "probs")
        // A logits model taken as probabilities has no Softmax to train through.
        try "0\n1\n2\n3\n".write(toFile: folder + "/four.txt", atomically: true, encoding: .utf8)
        let wrong = weakspot("finetune", FixturePaths.path("models/tiny_resnet.onnx"), "--data", FixturePaths.path("models/tiny_resnet.input.npy"),
                             "--labels", folder + "/four.txt", "--output-kind", "probs", "-o", folder + "/t2.onnx", "--quiet")
        XCTAssertEqual(wrong.code, 2, wrong.error)
        XCTAssertTrue(wrong.error.contains("does not end in a Softmax/LogSoftmax"), wrong.error)
    }
}
