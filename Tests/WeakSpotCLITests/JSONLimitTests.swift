import Foundation
import TestSupport
import WeakSpotCLI
import XCTest

/// `--max-json-bytes` and `--max-json-depth` on every command that reads JSON: a file past a
/// limit is exit 2 naming the file and the option; raising the option lets the same file through.
final class JSONLimitTests: XCTestCase {
    func assertRefused(_ result: CLIResult, naming path: String, option: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(result.code, 2, result.error, file: file, line: line)
        XCTAssertTrue(result.error.contains(path), result.error, file: file, line: line)
        XCTAssertTrue(result.error.contains("--\(option)"), result.error, file: file, line: line)
    }

    func testReportOverEitherLimitIsRefusedAndRaisingTheLimitAcceptsIt() throws {
        let (folder, path) = try profiledTinyReport(self, items: "channels", estimators: "l1")
        let bytes = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        assertRefused(weakspot("rank", path, "--max-json-bytes", String(bytes - 1)), naming: path, option: "max-json-bytes")
        XCTAssertEqual(weakspot("rank", path, "--max-json-bytes", String(bytes)).code, 0)
        // A report nests objects in arrays in objects: 2 levels are too few, the default is plenty.
        assertRefused(weakspot("rank", path, "--max-json-depth", "2"), naming: path, option: "max-json-depth")
        assertRefused(weakspot("gate", path, "--max-weak-fraction", "1", "--max-json-depth", "2"), naming: path, option: "max-json-depth")
        assertRefused(weakspot("merge", path, "-o", folder + "/m.json", "--max-json-bytes", "64"), naming: path, option: "max-json-bytes")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/m.json"))
        XCTAssertEqual(weakspot("gate", path, "--max-weak-fraction", "1").code, 0)
    }

    func testDeeplyNestedFilesAreRefusedByEveryReader() throws {
        let folder = try temporaryFolder(self)
        let deep = folder + "/deep.json"
        let levels = JSONFileOptions.maxDepthCeiling
        try (String(repeating: "[", count: levels) + String(repeating: "]", count: levels)).write(toFile: deep, atomically: true, encoding: .utf8)
        for arguments in [["rank", deep], ["gate", deep, "--max-kl", "1"], ["merge", deep, "-o", folder + "/m.json"],
                          ["prune", FixturePaths.path("models/tiny_resnet.onnx"), deep, "-o", folder + "/p.onnx"]] {
            assertRefused(weakspot(arguments), naming: deep, option: "max-json-depth")
        }
        // Raised to the ceiling (the file's depth), the parser gets through it on the test
        // thread's stack (and the schema check refuses it); past the ceiling is a usage error.
        let raised = weakspot("rank", deep, "--max-json-depth", String(levels))
        XCTAssertEqual(raised.code, 2, raised.error)
        XCTAssertFalse(raised.error.contains("--max-json-depth"), raised.error)
        XCTAssertTrue(raised.error.contains("expected a WeakSpot report") || raised.error.contains("schema"), raised.error)
        XCTAssertEqual(weakspot("rank", deep, "--max-json-depth", String(levels + 1)).code, 2)
    }

    func testCheckpointOverTheLimitIsRefusedOnResume() throws {
        let folder = try temporaryFolder(self)
        let checkpoint = folder + "/cp.json"
        try String(repeating: " ", count: 4096).write(toFile: checkpoint, atomically: true, encoding: .utf8)
        let result = weakspot("profile", FixturePaths.path("models/tiny_resnet.onnx"), "--data", FixturePaths.path("models/tiny_resnet.input.npy"),
                              "--items", "channels", "--checkpoint", checkpoint, "--resume", "--max-json-bytes", "1024",
                              "-o", folder + "/r.json", "--quiet")
        assertRefused(result, naming: checkpoint, option: "max-json-bytes")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/r.json"))
    }
}
