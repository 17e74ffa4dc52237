import DataInput
import WeakSpotCLI
import Foundation
import TestSupport
import XCTest

/// `weakspot run` on the demo: the same classes and logits as ONNX Runtime.
final class RunTests: XCTestCase {
    let model = FixturePaths.path("demo/efficientnet_lite0.onnx")
    let images = FixturePaths.path("demo/images")

    func testTop1MatchesONNXRuntime() throws {
        let result = weakspot("run", model, "--data", images, "--preprocess", "inception", "--top", "3", "--format", "json")
        XCTAssertEqual(result.code, 0, result.error)
        let reference = try demoReferenceTop1()
        XCTAssertEqual(reference.count, 9)
        let document = try parseJSON(result.output)
        XCTAssertEqual(document["count"] as? Int, 9)
        XCTAssertEqual(document["schema"] as? String, "weakspot.run/1")
        let predictions = try XCTUnwrap(document["predictions"] as? [[String: Any]])
        XCTAssertEqual(predictions.count, 9)
        for prediction in predictions {
            let source = try XCTUnwrap(prediction["source"] as? String)
            let top = try XCTUnwrap(prediction["top"] as? [[String: Any]])
            XCTAssertEqual(top.count, 3)
            XCTAssertEqual(top.first?["class"] as? Int, reference[(source as NSString).lastPathComponent], source)
            let probabilities = top.compactMap { $0["probability"] as? Double }
            XCTAssertEqual(probabilities, probabilities.sorted(by: >))
        }
        // Names come from imagenet_classes.txt next to the model.
        XCTAssertEqual((predictions.first?["top"] as? [[String: Any]])?.first?["name"] as? String, "Egyptian cat")
    }

    func testTextOutputStreamsPredictions() {
        let result = weakspot("run", model, "--data", images, "--preprocess", "inception", "--top", "1", "--batch", "4")
        XCTAssertEqual(result.code, 0, result.error)
        XCTAssertTrue(result.output.contains("01_chelsea.jpg\n    285  0.394"), result.output)
        XCTAssertTrue(result.output.contains("espresso"))
        XCTAssertTrue(result.output.contains("\n9 inputs\n"))
        // Three batches of at most 4: one plain progress line each on a non-terminal.
        XCTAssertEqual(result.error.split(separator: "\n").filter { $0.hasPrefix("progress: ") }.count, 3, result.error)
        let quiet = weakspot("run", model, "--data", images, "--preprocess", "inception", "--top", "1", "--batch", "4", "--quiet")
        XCTAssertEqual(quiet.error, "")
    }

    func testLogitsMatchONNXRuntime() throws {
        let folder = try temporaryFolder(self)
        let output = folder + "/logits.npy"
        let result = weakspot("run", model, "--data", images, "--preprocess", "inception", "-o", output, "--batch", "5")
        XCTAssertEqual(result.code, 0, result.error)
        let written = try NPYArray.read(path: output)
        let reference = try NPYArray.read(path: FixturePaths.path("demo/efficientnet_lite0.logits.npy"))
        XCTAssertEqual(written.shape, [9, 1000])
        XCTAssertEqual(written.dtype, .float32)
        if let problem = mismatch(written.floats(), reference.floats(), .relativeToPeak(1e-4)) { XCTFail(problem) }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder)
        XCTAssertEqual(leftovers, ["logits.npy"], "no temporary file remains")
    }

    func testPreprocessedNPYInputGivesTheSameLogits() throws {
        let folder = try temporaryFolder(self)
        let output = folder + "/logits.npy"
        let result = weakspot("run", model, "--data", FixturePaths.path("demo/images.input.npy"), "-o", output, "--quiet")
        XCTAssertEqual(result.code, 0, result.error)
        let written = try NPYArray.read(path: output)
        let reference = try NPYArray.read(path: FixturePaths.path("demo/efficientnet_lite0.logits.npy"))
        if let problem = mismatch(written.floats(), reference.floats(), .relativeToPeak(1e-4)) { XCTFail(problem) }
    }

    func testLabelsGiveAccuracy() throws {
        let folder = try temporaryFolder(self)
        let reference = try demoReferenceTop1()
        let labels = reference.keys.sorted().compactMap { reference[$0] }.map(String.init).joined(separator: "\n")
        try labels.write(toFile: folder + "/labels.txt", atomically: true, encoding: .utf8)
        let result = weakspot("run", model, "--data", images, "--preprocess", "inception", "--labels", folder + "/labels.txt", "--top", "2")
        XCTAssertEqual(result.code, 0, result.error)
        XCTAssertTrue(result.output.contains("accuracy: top-1 1.0000 (9/9), top-2 1.0000 (9/9)"), result.output)
        XCTAssertTrue(result.output.contains("01_chelsea.jpg  (label 285)"))
        let short = weakspot("run", model, "--data", images, "--labels", FixturePaths.path("demo/imagenet_classes.txt"))
        XCTAssertEqual(short.code, 2)
    }

    func testClassNamesFile() throws {
        let folder = try temporaryFolder(self)
        let names = (0..<1000).map { "class number \($0)" }.joined(separator: "\n") + "\n"
        try names.write(toFile: folder + "/names.txt", atomically: true, encoding: .utf8)
        let result = weakspot("run", model, "--data", images, "--preprocess", "inception", "--top", "1", "--classes", folder + "/names.txt")
        XCTAssertEqual(result.code, 0, result.error)
        XCTAssertTrue(result.output.contains("    285  0.3943  class number 285\n"), result.output)
        try "a\nb\n".write(toFile: folder + "/short.txt", atomically: true, encoding: .utf8)
        let short = weakspot("run", model, "--data", images, "--classes", folder + "/short.txt")
        XCTAssertEqual(short.code, 2)
        XCTAssertEqual(short.error, "error: \(folder)/short.txt: expected 1000 class names (one per model output), got 2\n")
        let missing = weakspot("run", model, "--data", images, "--classes", folder + "/none.txt")
        XCTAssertEqual(missing.code, 2)
        XCTAssertTrue(missing.error.hasPrefix("error: \(folder)/none.txt: "), missing.error)
    }

    func testKerasNHWCModel() throws {
        // The Keras fixture's input is the 4 parity photos, Resize 73 / CenterCrop 64, in [-1, 1].
        let folder = try temporaryFolder(self)
        let output = folder + "/out.npy"
        let result = weakspot("run", FixturePaths.path("models/keras_nhwc_cnn.onnx"),
                              "--data", FixturePaths.path("models/keras_nhwc_cnn.input.npy"), "-o", output)
        XCTAssertEqual(result.code, 0, result.error)
        let written = try NPYArray.read(path: output)
        let reference = try NPYArray.read(path: FixturePaths.path("models/keras_nhwc_cnn.output.npy"))
        XCTAssertEqual(written.shape, [4, 10])
        if let problem = mismatch(written.floats(), reference.floats(), .relativeToPeak(1e-4)) { XCTFail(problem) }
    }

    func testMissingModelAndData() throws {
        let missing = weakspot("run", "/nonexistent/model.onnx", "--data", images)
        XCTAssertEqual(missing.code, 2)
        XCTAssertEqual(missing.error, "error: /nonexistent/model.onnx: expected an ONNX model file, got no such file\n")
        let noData = weakspot("run", model, "--data", "/nonexistent/images")
        XCTAssertEqual(noData.code, 2)
        XCTAssertTrue(noData.error.hasPrefix("error: data '/nonexistent/images'"), noData.error)
        XCTAssertEqual(noData.error.split(separator: "\n").count, 1)
    }

    func testCorruptONNXIsNamed() throws {
        let folder = try temporaryFolder(self)
        let path = folder + "/random.onnx"
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        for command in [["count", path], ["run", path, "--data", images], ["bench", path, "--gemm-size", "0"]] {
            let result = weakspot(command)
            XCTAssertEqual(result.code, 2, "\(command): \(result.error)")
            XCTAssertTrue(result.error.hasPrefix("error: \(path): "), result.error)
            XCTAssertEqual(result.error.split(separator: "\n").count, 1, result.error)
        }
    }

    func testCorruptImageStopsTheRunOrIsSkipped() throws {
        let folder = try copyOfDemoImages(self)
        let bad = folder + "/05b_broken.jpg"
        // A JPEG start-of-image marker followed by text: no frame, no scan.
        try Data([0xFF, 0xD8] + Array("this is not a photograph".utf8)).write(to: URL(fileURLWithPath: bad))
        let stopped = weakspot("run", model, "--data", folder, "--preprocess", "inception", "--top", "1")
        XCTAssertEqual(stopped.code, 2)
        XCTAssertTrue(stopped.error.contains("error: \(bad): "), stopped.error)
        XCTAssertEqual(stopped.error.split(separator: "\n").filter { $0.hasPrefix("error:") }.count, 1)

        let output = folder + "/logits.npy"
        let skipped = weakspot("run", model, "--data", folder, "--preprocess", "inception", "--top", "1", "--skip-bad",
                               "-o", output, "--format", "json")
        XCTAssertEqual(skipped.code, 0, skipped.error)
        let document = try parseJSON(skipped.output)
        XCTAssertEqual(document["count"] as? Int, 9)
        XCTAssertEqual(document["schema"] as? String, "weakspot.run/1")
        let list = try XCTUnwrap(document["skipped"] as? [[String: Any]])
        XCTAssertEqual(list.compactMap { $0["path"] as? String }, [bad])
        XCTAssertTrue(skipped.error.contains("skipped 1 unreadable file(s)"), skipped.error)
        let written = try NPYArray.read(path: output)
        let reference = try NPYArray.read(path: FixturePaths.path("demo/efficientnet_lite0.logits.npy"))
        if let problem = mismatch(written.floats(), reference.floats(), .relativeToPeak(1e-4)) { XCTFail(problem) }
    }

    func testInputsOfTheWrongSizeAreRefused() {
        let result = weakspot("run", model, "--data", images, "--resize", "100", "--crop", "96")
        XCTAssertEqual(result.code, 2)
        XCTAssertTrue(result.error.hasPrefix("error: \(images): expected inputs shaped (N, 3, 224, 224)"), result.error)
    }

    func testSyntheticDataOnATinyModel() {
        let result = weakspot("run", FixturePaths.path("models/tiny_resnet.onnx"), "--data", "synthetic:5:7", "--top", "1", "--quiet")
        XCTAssertEqual(result.code, 0, result.error)
        XCTAssertTrue(result.output.hasPrefix("synthetic[0]\n"))
        XCTAssertTrue(result.output.contains("\n5 inputs\n"))
    }
}

/// Progress drawn as a bar when standard error is a terminal.
final class ProgressTests: XCTestCase {
    func testBarOnATerminal() {
        var output = ""
        var error = ""
        let code = WeakSpotCLI.main(["run", FixturePaths.path("models/tiny_resnet.onnx"), "--data", "synthetic:12", "--batch", "4"],
                                    output: &output, error: &error, errorIsTerminal: true)
        XCTAssertEqual(code, 0, error)
        XCTAssertEqual(error.components(separatedBy: "\r[").count - 1, 3, error)
        XCTAssertTrue(error.contains("12/12 inputs"), error)
        XCTAssertTrue(error.contains("ETA "), error)
        XCTAssertTrue(error.hasSuffix("\n"))
        XCTAssertFalse(error.contains("progress: "))
    }
}
