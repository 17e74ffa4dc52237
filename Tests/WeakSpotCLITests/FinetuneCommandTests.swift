import Foundation
import Influence
import TestSupport
import XCTest

/// `weakspot finetune` end to end: it learns (validation KL falls), writes a model the other
/// commands read, stops on Ctrl-C with a checkpoint that resumes to the identical model, and
/// refuses bad input with exit code 2 before any training.
final class FinetuneCommandTests: XCTestCase {
    let student = FixturePaths.path("models/tiny_mobilenet.onnx")
    let teacher = FixturePaths.path("models/tiny_resnet.onnx")
    let inputs = FixturePaths.path("models/tiny_mobilenet.input.npy")

    func testDistillationLowersValidationKLAndWritesAModelTheToolReads() throws {
        let folder = try temporaryFolder(self)
        let result = weakspot("finetune", student, "--data", inputs, "--teacher", teacher, "--val", inputs, "--epochs", "6", "--batch", "2",
                              "--lr", "0.003", "--threads", "2", "--history", folder + "/history.json", "-o", folder + "/tuned.onnx", "--quiet")
        XCTAssertEqual(result.code, 0, result.error)
        XCTAssertTrue(result.output.hasPrefix("before: top-1 agreement"), result.output)
        XCTAssertEqual(result.output.components(separatedBy: "\n").filter { $0.hasPrefix("epoch ") }.count, 6, result.output)
        let history = try parseJSON(try String(contentsOfFile: folder + "/history.json", encoding: .utf8))
        let before = try XCTUnwrap((history["before"] as? [String: Any])?["kl"] as? Double)
        let epochs = try XCTUnwrap(history["epochs"] as? [[String: Any]])
        let after = try XCTUnwrap((epochs.last?["validation"] as? [String: Any])?["kl"] as? Double)
        XCTAssertLessThan(after, 0.5 * before, "distillation on the validation inputs themselves should halve the KL: \(before) → \(after)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/tuned.onnx.checkpoint"), "the checkpoint is removed at the end")

        // The tuned model runs, and its logits are not the untrained model's.
        let tuned = weakspot("run", folder + "/tuned.onnx", "--data", inputs, "-o", folder + "/tuned.npy", "--quiet")
        XCTAssertEqual(tuned.code, 0, tuned.error)
        let original = weakspot("run", student, "--data", inputs, "-o", folder + "/original.npy", "--quiet")
        XCTAssertEqual(original.code, 0, original.error)
        XCTAssertNotEqual(try Data(contentsOf: URL(fileURLWithPath: folder + "/tuned.npy")),
                          try Data(contentsOf: URL(fileURLWithPath: folder + "/original.npy")))
        let count = weakspot("count", folder + "/tuned.onnx", "--format", "json")
        XCTAssertEqual(count.code, 0, count.error)
        XCTAssertEqual(try parseJSON(count.output)["totals"] as? NSDictionary, try parseJSON(weakspot("count", student, "--format", "json").output)["totals"] as? NSDictionary)
    }

    /// Distillation on mixed inputs (`--augment crop,flip,mixup`) learns too: validation KL falls.
    func testMixupDistillationLowersValidationKL() throws {
        let folder = try temporaryFolder(self)
        let result = weakspot("finetune", student, "--data", inputs, "--teacher", teacher, "--val", inputs, "--epochs", "6", "--batch", "2",
                              "--lr", "0.003", "--augment", "crop,flip,mixup", "--threads", "2", "--history", folder + "/history.json",
                              "-o", folder + "/tuned.onnx", "--quiet")
        XCTAssertEqual(result.code, 0, result.error)
        let history = try parseJSON(try String(contentsOfFile: folder + "/history.json", encoding: .utf8))
        let before = try XCTUnwrap((history["before"] as? [String: Any])?["kl"] as? Double)
        let epochs = try XCTUnwrap(history["epochs"] as? [[String: Any]])
        let after = try XCTUnwrap((epochs.last?["validation"] as? [String: Any])?["kl"] as? Double)
        XCTAssertLessThan(after, 0.75 * before, "\(before) → \(after)")
    }

    func testLabelsTrainWithCrossEntropy() throws {
        let folder = try temporaryFolder(self)
        try "3\n1\n7\n0\n".write(toFile: folder + "/labels.txt", atomically: true, encoding: .utf8)
        let result = weakspot("finetune", student, "--data", inputs, "--labels", folder + "/labels.txt", "--val", inputs,
                              "--val-labels", folder + "/labels.txt", "--epochs", "8", "--batch", "4", "--optimizer", "sgd",
                              "--lr", "0.001", "--augment", "none", "--bn", "frozen", "--threads", "2", "-o", folder + "/tuned.onnx", "--quiet")
        XCTAssertEqual(result.code, 0, result.error)
        let lines = result.output.components(separatedBy: "\n")
        XCTAssertTrue(lines.last { $0.hasPrefix("epoch 8/8") }?.contains("accuracy 100.0%") ?? false, "four inputs are memorised: \(result.output)")
    }

    /// Ctrl-C after the first epoch's checkpoint: exit 130 with the resume hint; `--resume` ends
    /// with the same bytes as an uninterrupted run.
    func testSIGINTThenResumeGivesTheUninterruptedModel() throws {
        let folder = try temporaryFolder(self)
        let common = ["finetune", student, "--data", "synthetic:40:5", "--teacher", teacher, "--epochs", "12", "--batch", "4",
                      "--threads", "2", "--seed", "3", "--quiet"]
        let whole = weakspot(common + ["-o", folder + "/whole.onnx"])
        XCTAssertEqual(whole.code, 0, whole.error)

        let checkpoint = folder + "/resumed.onnx.checkpoint"
        let (status, wasRunning, message) = try interruptWhenFileAppears(common + ["-o", folder + "/resumed.onnx"], file: checkpoint)
        XCTAssertTrue(wasRunning, "the run ended before it could be interrupted")
        XCTAssertEqual(status, 130, message)
        XCTAssertTrue(message.hasPrefix("interrupted at epoch "), message)
        XCTAssertTrue(message.contains("checkpoint saved to \(checkpoint): run again with --resume"), message)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/resumed.onnx"))

        let resumed = weakspot(common + ["-o", folder + "/resumed.onnx", "--resume"])
        XCTAssertEqual(resumed.code, 0, resumed.error)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: folder + "/resumed.onnx")),
                       try Data(contentsOf: URL(fileURLWithPath: folder + "/whole.onnx")))
    }

    func testBadInputIsExitTwoBeforeTraining() throws {
        let folder = try temporaryFolder(self)
        let output = folder + "/tuned.onnx"
        func refused(_ arguments: [String], _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
            let result = weakspot(["finetune"] + arguments + ["--quiet"])
            XCTAssertEqual(result.code, 2, result.error, file: file, line: line)
            XCTAssertTrue(result.error.contains(expected), "expected '\(expected)' in: \(result.error)", file: file, line: line)
            XCTAssertFalse(FileManager.default.fileExists(atPath: output), file: file, line: line)
        }
        refused([student, "--data", inputs, "-o", output], "nothing to learn from")
        refused([student, "--data", inputs, "--teacher", FixturePaths.path("models/resnet18_bn.onnx"), "-o", output], "expected the student's input shape")
        refused([student, "--data", inputs, "--teacher", teacher, "--lr", "-1", "-o", output], "--lr: expected a positive number")
        // Divergence is the user's learning rate, said as such (exit 2), not an internal error.
        try "3\n1\n7\n0\n".write(toFile: folder + "/labels.txt", atomically: true, encoding: .utf8)
        refused([student, "--data", inputs, "--labels", folder + "/labels.txt", "--optimizer", "sgd", "--lr", "0.05", "--bn", "frozen",
                 "--augment", "none", "--epochs", "30", "--batch", "4", "-o", output], "training diverged; lower --lr")
        refused([student, "--data", inputs, "--teacher", teacher, "--optimizer", "lbfgs", "-o", output], "--optimizer")
        refused([student, "--data", inputs, "--teacher", teacher, "--augment", "rotate", "-o", output], "--augment")
        refused([student, "--data", inputs, "--labels", folder + "/labels.txt", "--augment", "crop,mixup", "-o", output],
                "--augment mixup: only for distillation")
        refused([student, "--data", inputs, "--teacher", teacher, "-o", folder + "/missing/tuned.onnx"], "does not exist")
        refused([student, "--data", FixturePaths.path("models/resnet18_bn.input.npy"), "--teacher", teacher, "-o", output], "expected the model's")
        // A damaged checkpoint with --resume names the checkpoint.
        try Data("WSTUNE01garbage".utf8).write(to: URL(fileURLWithPath: output + ".checkpoint"))
        refused([student, "--data", inputs, "--teacher", teacher, "--resume", "-o", output], output + ".checkpoint")
    }
}
