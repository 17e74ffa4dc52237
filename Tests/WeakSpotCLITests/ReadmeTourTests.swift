import Foundation
import TestSupport
import XCTest

/// The README's tour, run literally: the first ```bash block under "## A three-minute tour" is
/// given to bash, as a newcomer would paste it, in a scratch folder that looks like a fresh clone
/// after `swift build -c release` (Fixtures/ and .build/release/weakspot, linked). A README that
/// drifts from the commands fails here.
final class ReadmeTourTests: XCTestCase {
    static let heading = "## A three-minute tour"

    /// The tour's shell block, as written in README.md.
    func tourBlock() throws -> String {
        let readme = try String(contentsOf: FixturePaths.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try XCTUnwrap(readme.range(of: Self.heading), "README.md has no '\(Self.heading)' section")
        let rest = readme[section.upperBound...]
        let open = try XCTUnwrap(rest.range(of: "```bash\n"), "the tour has no ```bash block")
        let close = try XCTUnwrap(rest[open.upperBound...].range(of: "\n```"), "the tour's block is not closed")
        return String(rest[open.upperBound..<close.lowerBound])
    }

    func testTourRunsAsWritten() throws {
        let block = try tourBlock()
        let commands = block.split(separator: "\n").filter { $0.hasPrefix("$B ") }
        XCTAssertGreaterThanOrEqual(commands.count, 12, "the tour should show every pipeline stage")
        for stage in ["count", "run", "profile", "rank", "plan", "prune", "gate", "finetune", "merge", "bench"] {
            XCTAssert(commands.contains { $0.hasPrefix("$B \(stage) ") }, "the tour never runs '\(stage)'")
        }

        let executable = try XCTUnwrap(WeakSpotExecutable.path(), "the weakspot executable was not built")
        let fileManager = FileManager.default
        let clone = fileManager.temporaryDirectory.appendingPathComponent("weakspot-tour-\(UUID().uuidString)")
        try fileManager.createDirectory(at: clone.appendingPathComponent(".build/release"), withIntermediateDirectories: true)
        defer { try? fileManager.removeItem(at: clone) }
        try fileManager.createSymbolicLink(at: clone.appendingPathComponent("Fixtures"),
                                           withDestinationURL: FixturePaths.repositoryRoot.appendingPathComponent("Fixtures"))
        try fileManager.createSymbolicLink(at: clone.appendingPathComponent(".build/release/weakspot"),
                                           withDestinationURL: URL(fileURLWithPath: executable))

        let log = clone.appendingPathComponent("tour.log")
        fileManager.createFile(atPath: log.path, contents: nil)
        let logHandle = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-e", "-x", "-c", block]
        process.currentDirectoryURL = clone
        process.standardOutput = logHandle
        process.standardError = logHandle
        process.standardInput = FileHandle.nullDevice
        let started = Date()
        try process.run()
        process.waitUntilExit()
        try logHandle.close()
        let seconds = Date().timeIntervalSince(started)
        let transcript = try String(contentsOf: log, encoding: .utf8)
        let lastLines = transcript.split(separator: "\n").suffix(15).joined(separator: "\n")
        XCTAssertEqual(process.terminationStatus, 0, "the tour stopped (exit \(process.terminationStatus)) after \(Int(seconds)) s:\n\(lastLines)")
        print("README tour: \(commands.count) commands in \(String(format: "%.1f", seconds)) s")

        for file in ["logits.npy", "report.json", "report.csv", "report.html", "quick.json", "sweep.json", "plan.json",
                     "pruned.onnx", "tuned.onnx", "resumed.json", "merged.json"] {
            XCTAssert(fileManager.fileExists(atPath: clone.appendingPathComponent("tour/\(file)").path), "the tour did not write tour/\(file)")
        }
        XCTAssertFalse(transcript.contains("refused"), "the tour's gate refused its own plan:\n\(lastLines)")
    }
}
