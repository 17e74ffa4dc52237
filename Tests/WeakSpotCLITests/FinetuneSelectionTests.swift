import Foundation
import TestSupport
import XCTest

/// `finetune` never hands back a worse model silently: `--keep best` writes the best-validating
/// weights (the starting ones when no epoch beat them, with a warning and exit 0), `--keep last`
/// writes the last epoch's and says when they are worse, `--early-stop K` ends a run that stopped
/// improving. The runs start from the teacher itself (agreement 100%, KL 0) and train on labels
/// alone (`--alpha 0`), judged against the teacher, so no epoch can validate better than the start.
final class FinetuneSelectionTests: XCTestCase {
    let student = FixturePaths.path("models/tiny_mobilenet.onnx")
    let teacher = FixturePaths.path("models/tiny_resnet.onnx")
    let inputs = FixturePaths.path("models/tiny_mobilenet.input.npy")

    func finetune(_ folder: String, _ extra: [String]) throws -> (code: Int32, output: String, error: String) {
        try "3\n1\n7\n0\n".write(toFile: folder + "/labels.txt", atomically: true, encoding: .utf8)
        let result = weakspot(["finetune", teacher, "--data", inputs, "--labels", folder + "/labels.txt", "--teacher", teacher, "--alpha", "0",
                               "--val", inputs, "--optimizer", "sgd", "--lr", "0.001", "--augment", "none", "--bn", "frozen", "--batch", "4",
                               "--threads", "2", "--history", folder + "/history.json", "-o", folder + "/tuned.onnx", "--quiet"] + extra)
        return (result.code, result.output, result.error)
    }

    func logits(_ model: String, _ folder: String, _ name: String) throws -> Data {
        let result = weakspot("run", model, "--data", inputs, "-o", folder + "/" + name, "--quiet")
        XCTAssertEqual(result.code, 0, result.error)
        return try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
    }

    func history(_ folder: String) throws -> [String: Any] {
        try parseJSON(try String(contentsOfFile: folder + "/history.json", encoding: .utf8))
    }

    func testNoImprovementWarnsExitsZeroAndWritesTheStartingWeights() throws {
        let folder = try temporaryFolder(self)
        let result = try finetune(folder, ["--epochs", "4"])
        XCTAssertEqual(result.code, 0, result.error)
        XCTAssertTrue(result.error.contains("warning: no epoch beat the starting model's top-1 agreement on validation: writing the starting weights unchanged"),
                      result.error)
        let kept = try XCTUnwrap(result.output.components(separatedBy: "\n").first { $0.hasPrefix("kept: ") }, result.output)
        let before = try XCTUnwrap(result.output.components(separatedBy: "\n").first { $0.hasPrefix("before: ") })
        XCTAssertEqual(kept, "kept: the starting weights; " + before.dropFirst("before: ".count), "the original's figures are printed")
        XCTAssertEqual(try logits(folder + "/tuned.onnx", folder, "tuned.npy"), try logits(teacher, folder, "original.npy"),
                       "the written model computes what the starting one does")
        let h = try history(folder)
        XCTAssertEqual(h["keptEpoch"] as? Int, 0)
        XCTAssertEqual((h["epochs"] as? [Any])?.count, 4, "every epoch ran")
        // The premise: the start agrees with the teacher exactly, and training moved away from it.
        XCTAssertEqual((h["before"] as? [String: Any])?["agreement"] as? Double, 1)
        for case let epoch as [String: Any] in try XCTUnwrap(h["epochs"] as? [Any]) {
            XCTAssertGreaterThan(try XCTUnwrap((epoch["validation"] as? [String: Any])?["kl"] as? Double), 0)
        }
    }

    func testKeepLastWritesTheLastEpochAndSaysItIsWorse() throws {
        let folder = try temporaryFolder(self)
        let result = try finetune(folder, ["--epochs", "3", "--keep", "last"])
        XCTAssertEqual(result.code, 0, result.error)
        XCTAssertTrue(result.error.contains("warning: the written weights validate worse than the starting model's"), result.error)
        XCTAssertTrue(result.output.contains("kept: epoch 3 (--keep last); "), result.output)
        XCTAssertNotEqual(try logits(folder + "/tuned.onnx", folder, "tuned.npy"), try logits(teacher, folder, "original.npy"))
        XCTAssertEqual(try history(folder)["keptEpoch"] as? Int, 3)
    }

    func testEarlyStopEndsTheRunAfterKEpochsWithoutImprovement() throws {
        let folder = try temporaryFolder(self)
        let result = try finetune(folder, ["--epochs", "20", "--early-stop", "2"])
        XCTAssertEqual(result.code, 0, result.error)
        XCTAssertEqual(result.output.components(separatedBy: "\n").filter { $0.hasPrefix("epoch ") }.count, 2, result.output)
        XCTAssertTrue(result.output.contains("early stop after epoch 2: 2 epochs without improvement; kept: the starting weights"), result.output)
        let h = try history(folder)
        XCTAssertEqual(h["stoppedEarly"] as? Bool, true)
        XCTAssertEqual((h["epochs"] as? [Any])?.count, 2)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/tuned.onnx.checkpoint"))
    }

    /// When training helps, the kept epoch is the best-validating one and the written model
    /// reproduces its figures.
    func testKeepBestWritesTheBestValidatingEpoch() throws {
        let folder = try temporaryFolder(self)
        let result = weakspot("finetune", student, "--data", inputs, "--teacher", teacher, "--val", inputs, "--epochs", "5", "--batch", "2",
                              "--lr", "0.003", "--threads", "2", "--history", folder + "/history.json", "-o", folder + "/tuned.onnx", "--quiet")
        XCTAssertEqual(result.code, 0, result.error)
        let h = try history(folder)
        let epochs = try XCTUnwrap(h["epochs"] as? [[String: Any]])
        let kept = try XCTUnwrap(h["keptEpoch"] as? Int)
        XCTAssertGreaterThan(kept, 0, "distillation on the validation inputs improves on the start: \(result.output)")
        func figures(_ e: [String: Any]) throws -> (Double, Double) {
            let v = try XCTUnwrap(e["validation"] as? [String: Any])
            return (try XCTUnwrap(v["agreement"] as? Double), try XCTUnwrap(v["kl"] as? Double))
        }
        let best = try figures(epochs[kept - 1])
        for e in epochs {
            let f = try figures(e)
            XCTAssertTrue(f.0 < best.0 || (f.0 == best.0 && f.1 >= best.1), "epoch \(e["epoch"] ?? "?") \(f) beats the kept \(best)")
        }
        let keptLine = try XCTUnwrap(result.output.components(separatedBy: "\n").first { $0.hasPrefix("kept: epoch \(kept) (best validation); ") },
                                     result.output)
        let epochLine = try XCTUnwrap(result.output.components(separatedBy: "\n").first { $0.hasPrefix("epoch \(kept)/5") })
        let keptFigures = String(keptLine.dropFirst("kept: epoch \(kept) (best validation); ".count))
        XCTAssertTrue(epochLine.hasSuffix("; " + keptFigures), "kept figures are epoch \(kept)'s: \(epochLine) vs \(keptLine)")
        // The written model validates as the kept epoch did: its own starting figures, in a second run, are the same.
        let again = weakspot("finetune", folder + "/tuned.onnx", "--data", inputs, "--teacher", teacher, "--val", inputs, "--epochs", "1",
                             "--batch", "2", "--threads", "2", "-o", folder + "/again.onnx", "--quiet")
        XCTAssertEqual(again.code, 0, again.error)
        XCTAssertTrue(again.output.hasPrefix("before: " + keptFigures + "\n"), again.output)
    }

    /// `--recalibrate N` before the first epoch: said with its figures, and the starting point of
    /// the selection only when it validates better.
    func testRecalibrationBeforeTheFirstEpoch() throws {
        let folder = try temporaryFolder(self)
        let result = weakspot("finetune", student, "--data", inputs, "--teacher", teacher, "--recalibrate", "4", "--batch", "2", "--epochs", "1",
                              "--lr", "0.000001", "--threads", "2", "--history", folder + "/history.json", "-o", folder + "/tuned.onnx", "--quiet")
        XCTAssertEqual(result.code, 0, result.error)
        let lines = result.output.components(separatedBy: "\n")
        let line = try XCTUnwrap(lines.first { $0.hasPrefix("recalibrated on 4 inputs: ") }, result.output)
        let figures = String(line.dropFirst("recalibrated on 4 inputs: ".count).split(separator: ";")[0])
        let h = try history(folder)
        let before = try XCTUnwrap(h["before"] as? [String: Any])
        if line.hasSuffix("; starting from the recalibrated model") {
            XCTAssertTrue(figures.contains("kl \(String(format: "%.4f", try XCTUnwrap(before["kl"] as? Double)))"), "\(figures) vs \(before)")
        } else {
            XCTAssertTrue(line.hasSuffix("; not better: starting from the model as given"), line)
        }
    }
}
