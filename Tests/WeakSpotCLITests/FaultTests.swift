import Foundation
import Influence
import Support
import TestSupport
import XCTest

/// Long runs meet full disks, read-only folders and Ctrl-C (issue 8): each ends with exit code 2
/// (or 130 for SIGINT), a message naming the file and the reason, and nothing lost — the
/// previous report is untouched, an interrupted profile resumes to the uninterrupted report.
/// Most cases run the real executable (resource limits, other users, signals need a process).
final class FaultTests: XCTestCase {
    let model = FixturePaths.path("models/tiny_resnet.onnx")
    let data = FixturePaths.path("models/tiny_resnet.input.npy")
    let previous = "{\"previous\": \"report\"}\n"

    struct Finished {
        var code: Int32
        var reason: Process.TerminationReason
        var error: String
    }

    /// Runs `command` (program first) to the end, standard error captured; `environment` is
    /// added to this process's environment.
    func launch(_ command: [String], environment: [String: String] = [:]) throws -> Finished {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardOutput = FileHandle.nullDevice
        let error = Pipe()
        process.standardError = error
        try process.run()
        let text = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return Finished(code: process.terminationStatus, reason: process.terminationReason, error: text)
    }

    func executable() throws -> String {
        try XCTUnwrap(WeakSpotExecutable.path(), "the weakspot executable was not built")
    }

    func reportWithoutTiming(_ path: String) throws -> String {
        var report = try XCTUnwrap(try validatedReport(path).objectValue)
        report["timing"] = nil
        return JSONValue.object(report).rendered()
    }

    /// /dev/full accepts the open and fails every write with ENOSPC. The device must still be a
    /// device afterwards: an atomic writer that renamed a temporary file over it (as root) would
    /// have replaced it.
    func testWriteErrorIsExitTwoAndTheDeviceIsLeftAlone() throws {
        let result = weakspot("profile", model, "--data", data, "-o", "/dev/full", "--quiet")
        XCTAssertEqual(result.code, 2)
        XCTAssertEqual(result.error, "error: /dev/full: cannot write the file: No space left on device\n")
        var status = stat()
        XCTAssertEqual(stat("/dev/full", &status), 0)
        XCTAssertEqual(status.st_mode & S_IFMT, S_IFCHR, "/dev/full is no longer a character device")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: "/dev").filter { $0.hasPrefix(".full.tmp") }
        XCTAssertEqual(leftovers, [])
    }

    /// `run -o /dev/null` (an .npy writer, not `AtomicFile`) writes through the device too.
    func testNPYOutputToADeviceLeavesTheDeviceAlone() throws {
        let result = weakspot("run", model, "--data", data, "-o", "/dev/null")
        XCTAssertEqual(result.code, 0, result.error)
        var status = stat()
        XCTAssertEqual(stat("/dev/null", &status), 0)
        XCTAssertEqual(status.st_mode & S_IFMT, S_IFCHR, "/dev/null is no longer a character device")
    }

    /// A disk that fills while the report is written (here: a file-size limit of 512 bytes with
    /// SIGXFSZ ignored, so the write fails with EFBIG as it would with ENOSPC): exit code 2, the
    /// previous report byte for byte, no temporary file left behind.
    ///
    /// The child's `TMPDIR` names a folder that does not exist. WeakSpot does not use it (its
    /// temporary files sit next to their target), but the ThreadSanitizer runtime writes a 512 KB
    /// file there at start-up (its shadow for read-only data) and dies with SIGBUS when the limit
    /// cuts that file short; with no such folder it skips the file, so this test runs unchanged
    /// in a TSan build (docs/reliability.md, "Sanitizers").
    func testFullDiskLeavesThePreviousReportIntact() throws {
        let folder = try temporaryFolder(self)
        let output = folder + "/report.json"
        try previous.write(toFile: output, atomically: false, encoding: .utf8)
        let script = "ulimit -f 1; trap '' XFSZ; exec \"$0\" \"$@\""
        let result = try launch(["/bin/sh", "-c", script, try executable(),
                                 "profile", model, "--data", data, "-o", output, "--quiet"],
                                environment: ["TMPDIR": folder + "/no-such-folder"])
        XCTAssertEqual(result.code, 2, result.error)
        XCTAssertEqual(result.error, "error: \(output): cannot write the file: File too large\n")
        XCTAssertEqual(try String(contentsOfFile: output, encoding: .utf8), previous)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["report.json"])
    }

    /// A folder the user may not write to: refused before measuring, previous report intact.
    /// Root writes anywhere, so as root the executable runs as `nobody` (setpriv).
    func testUnwritableFolderIsRefusedAndThePreviousReportStays() throws {
        let folder = try temporaryFolder(self)
        let output = folder + "/report.json"
        try previous.write(toFile: output, atomically: false, encoding: .utf8)
        XCTAssertEqual(chmod(folder, 0o555), 0)
        addTeardownBlock { chmod(folder, 0o755) }
        var command = [try executable(), "profile", model, "--data", data, "-o", output, "--quiet"]
        if geteuid() == 0 {
            let setpriv = "/usr/bin/setpriv"
            try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: setpriv), "running as root without setpriv")
            command = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"] + command
        }
        let result = try launch(command)
        XCTAssertEqual(result.code, 2, result.error)
        XCTAssertEqual(result.error, "error: \(output): cannot write the file: the folder \(folder) is not writable (Permission denied)\n")
        XCTAssertEqual(try String(contentsOfFile: output, encoding: .utf8), previous)
    }

    /// A path through a regular file is no folder: refused before measuring.
    func testOutputUnderAFileIsRefused() throws {
        let folder = try temporaryFolder(self)
        try previous.write(toFile: folder + "/report.json", atomically: false, encoding: .utf8)
        let result = weakspot("profile", model, "--data", data, "-o", folder + "/report.json/r.json", "--quiet")
        XCTAssertEqual(result.code, 2)
        XCTAssertEqual(result.error, "error: \(folder)/report.json/r.json: cannot write the file: the folder \(folder)/report.json does not exist\n")
        XCTAssertEqual(try String(contentsOfFile: folder + "/report.json", encoding: .utf8), previous)
    }

    /// SIGINT during `profile --checkpoint`: exit code 130 and a message after the checkpoint is
    /// saved; `--resume` then writes the report an uninterrupted run writes (apart from timing).
    func testSIGINTSavesTheCheckpointAndResumeGivesTheUninterruptedReport() throws {
        let folder = try temporaryFolder(self)
        let common = ["profile", FixturePaths.path("models/tiny_mobilenet.onnx"), "--data", "synthetic:48:3", "--batch", "6",
                      "--threads", "2", "--quiet"]
        let whole = weakspot(common + ["-o", folder + "/whole.json"])
        XCTAssertEqual(whole.code, 0, whole.error)

        let checkpoint = folder + "/run.ckpt"
        // Interrupt as soon as the first checkpoint exists (first batch done), mid-run.
        let (status, wasRunning, message) = try interruptWhenFileAppears(common + ["-o", folder + "/resumed.json", "--checkpoint", checkpoint],
                                                                         file: checkpoint, timeout: 60)
        XCTAssertTrue(wasRunning, "the run ended before it could be interrupted")
        XCTAssertEqual(status, 130, message)
        XCTAssertEqual(message, "interrupted: finished items saved to \(checkpoint); rerun the same command with --resume to continue\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/resumed.json"))

        let resumed = weakspot(common + ["-o", folder + "/resumed.json", "--checkpoint", checkpoint, "--resume"])
        XCTAssertEqual(resumed.code, 0, resumed.error)
        // Said even with --quiet, so that a requeued cluster task's log shows it resumed.
        XCTAssertTrue(resumed.error.contains("resuming from \(checkpoint): "), resumed.error)
        XCTAssertEqual(try reportWithoutTiming(folder + "/resumed.json"), try reportWithoutTiming(folder + "/whole.json"))
    }
}
