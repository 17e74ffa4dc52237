import Foundation
import Influence
import Support
import TestSupport
import XCTest

/// A profile killed with SIGKILL and resumed from its checkpoint ends with the report an
/// uninterrupted run writes (apart from `timing`). Runs the real executable.
final class KillAndResumeTests: XCTestCase {
    func withoutTiming(_ path: String) throws -> String {
        let parsed = try JSONValue.parse(String(contentsOfFile: path, encoding: .utf8))
        try SchemaCheck.validate(parsed)
        var report = try XCTUnwrap(parsed.objectValue)
        report["timing"] = nil
        return JSONValue.object(report).rendered()
    }

    func testSIGKILLThenResumeGivesTheUninterruptedReport() throws {
        let binary = try XCTUnwrap(WeakSpotExecutable.path(), "the weakspot executable was not built")
        _ = binary
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ws-kill-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let common = ["profile", FixturePaths.path("models/tiny_mobilenet.onnx"), "--data", "synthetic:48:3", "--batch", "6",
                      "--threads", "2", "--quiet"]
        let whole = try WeakSpotExecutable.start(common + ["-o", dir + "/whole.json"])
        whole.waitUntilExit()
        XCTAssertEqual(whole.terminationStatus, 0)

        let checkpoint = dir + "/run.ckpt"
        var kills = 0
        for attempt in 0..<5 {
            let run = try WeakSpotExecutable.start(common + ["-o", dir + "/resumed.json", "--checkpoint", checkpoint, "--resume"])
            // Let it work a while (longer each time, so the run always advances), then kill it.
            Thread.sleep(forTimeInterval: 0.5 + 0.3 * Double(attempt))
            if run.isRunning {
                kill(run.processIdentifier, SIGKILL)
                run.waitUntilExit()
                XCTAssertEqual(run.terminationReason, .uncaughtSignal)
                kills += 1
            } else {
                XCTAssertEqual(run.terminationStatus, 0)
                break
            }
        }
        if !FileManager.default.fileExists(atPath: dir + "/resumed.json") {
            let last = try WeakSpotExecutable.start(common + ["-o", dir + "/resumed.json", "--checkpoint", checkpoint, "--resume"])
            last.waitUntilExit()
            XCTAssertEqual(last.terminationStatus, 0)
        }
        XCTAssertGreaterThan(kills, 0, "the run finished before it could be killed")
        XCTAssertEqual(try withoutTiming(dir + "/resumed.json"), try withoutTiming(dir + "/whole.json"))
    }
}
