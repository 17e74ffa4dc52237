import Foundation
import Influence
import Support
import TestSupport
import XCTest

/// `weakspot profile` and `weakspot merge` through the command line, in-process.
final class ProfileCommandTests: XCTestCase {
    let model = FixturePaths.path("models/tiny_resnet.onnx")
    let data = FixturePaths.path("models/tiny_resnet.input.npy")

    func testWritesReportAndCSV() throws {
        let folder = try temporaryFolder(self)
        let result = weakspot("profile", model, "--data", data, "--items", "channels,groups", "--estimators", "l1",
                              "-o", folder + "/r.json", "--csv", folder + "/r.csv", "--quiet")
        XCTAssertEqual(result.code, 0, result.error)
        XCTAssertTrue(result.output.contains("estimator agreement with the measurement:"), result.output)
        XCTAssertTrue(result.output.contains("per layer (channel items, influence = kl):"), result.output)
        let report = try validatedReport(folder + "/r.json")
        XCTAssertEqual(report["schema"]?.stringValue, "weakspot.report/1")
        XCTAssertEqual(report["model"]?["sha256"]?.stringValue?.count, 64)
        XCTAssertTrue(try String(contentsOfFile: folder + "/r.csv", encoding: .utf8).hasPrefix("id,kind,layer,"))
    }

    /// An unwritable output is refused before any measuring, and an existing report survives.
    func testUnwritableOutputIsRefusedFirst() throws {
        let result = weakspot("profile", model, "--data", data, "-o", "/nonexistent-folder/r.json", "--quiet")
        XCTAssertEqual(result.code, 2)
        XCTAssertEqual(result.error, "error: /nonexistent-folder/r.json: cannot write the file: the folder /nonexistent-folder does not exist\n")
        XCTAssertEqual(result.output, "")
    }

    func testBadOptionsExitTwo() {
        for arguments in [["--resume"], ["--shard", "4/3"], ["--perturb", "noise:-1"], ["--perturb", "quantize:1"], ["--prune-mode", "unstructured"], ["--metric", "acc"], ["--estimators", "taylr"], ["--weak-threshold", "q:1.5"],
                          ["--adaptive", "--weak-threshold", "q:0.1"], ["--normalize", "softmax"]] {
            let result = weakspot(["profile", model, "--data", data, "--quiet"] + arguments)
            XCTAssertEqual(result.code, 2, "\(arguments)")
            XCTAssertTrue(result.error.hasPrefix("error: "), result.error)
        }
    }

    func testShardsMergeThroughTheCommandLine() throws {
        let folder = try temporaryFolder(self)
        for i in 1...2 {
            XCTAssertEqual(weakspot("profile", model, "--data", data, "--shard", "\(i)/2", "-o", folder + "/s\(i).json", "--quiet").code, 0)
        }
        XCTAssertEqual(weakspot("profile", model, "--data", data, "-o", folder + "/whole.json", "--quiet").code, 0)
        let merged = weakspot("merge", folder + "/s1.json", folder + "/s2.json", "-o", folder + "/merged.json")
        XCTAssertEqual(merged.code, 0, merged.error)
        XCTAssertEqual(try reportWithoutTiming(folder + "/merged.json"), try reportWithoutTiming(folder + "/whole.json"))
        let missing = weakspot("merge", folder + "/s1.json", "-o", folder + "/bad.json")
        XCTAssertEqual(missing.code, 2)
        XCTAssertTrue(missing.error.contains("items are missing"), missing.error)
    }

    /// --max-memory lowers the inputs per pass; the measurements do not change.
    func testMaxMemoryShrinksTheBatchNotTheNumbers() throws {
        let folder = try temporaryFolder(self)
        XCTAssertEqual(weakspot("profile", model, "--data", data, "-o", folder + "/a.json", "--quiet").code, 0)
        let small = weakspot("profile", model, "--data", data, "--max-memory", "16", "--batch", "4096", "-o", folder + "/b.json")
        XCTAssertEqual(small.code, 0, small.error)
        let a = try validatedReport(folder + "/a.json"), b = try validatedReport(folder + "/b.json")
        let perInput = 16 * 1_048_576 / max(1, try XCTUnwrap(b["settings"]?["batch"]?.intValue))
        XCTAssertGreaterThan(perInput, 0)
        XCTAssertLessThan(try XCTUnwrap(b["settings"]?["batch"]?.intValue), 4096, small.error)
        for (x, y) in zip(a["items"]!.arrayValue!, b["items"]!.arrayValue!) {
            let (m, n) = (x["influence"]!["mean"]!.doubleValue!, y["influence"]!["mean"]!.doubleValue!)
            XCTAssertEqual(m, n, accuracy: max(1e-7, 1e-4 * m), x["id"]?.stringValue ?? "")
        }
        let tooSmall = weakspot("profile", FixturePaths.path("models/resnet18_bn.onnx"), "--data", "synthetic:2", "--max-memory", "16", "-o", folder + "/c.json")
        XCTAssertEqual(tooSmall.code, 2)
        XCTAssertTrue(tooSmall.error.contains("--max-memory"), tooSmall.error)
    }
}
