import Foundation
import Influence
import TestSupport
import XCTest
import Support

/// Every command that writes a file, with every kind of output path a user types: `-`, an
/// existing folder (`dir`, `dir/`, `.`), a folder that does not exist (`missing/`, `x/y/f`), a
/// folder nobody can write, an existing file, a name without extension. The rule (docs/cli.md,
/// "Output paths") lives in OutputFile.swift; these tests hold each command to it.
final class OutputPathTests: XCTestCase {
    let model = FixturePaths.path("models/tiny_resnet.onnx")
    let data = FixturePaths.path("models/tiny_resnet.input.npy")

    /// One output option of one command: the command line with `path` in the option's place,
    /// the file a folder gets, and whether `-` is standard output.
    struct Case {
        var name: String
        var arguments: (String) -> [String]
        var defaultName: String
        var text: Bool
    }

    /// A report, a plan of it and a shard pair, made once per test in `folder`.
    func inputs(_ folder: String) throws -> (report: String, plan: String) {
        let report = folder + "/in.json", plan = folder + "/in-plan.json"
        XCTAssertEqual(weakspot("profile", model, "--data", data, "--items", "groups", "-o", report, "--quiet").code, 0)
        let planned = weakspot("plan", model, report, "--target", "macs=0.9", "-o", plan, "--quiet")
        XCTAssertEqual(planned.code, 0, planned.error)
        return (report, plan)
    }

    func cases(report: String, plan: String) -> [Case] {
        let profile = ["profile", model, "--data", data, "--items", "groups", "--quiet"]
        return [
            Case(name: "profile -o", arguments: { profile + ["-o", $0] }, defaultName: "report.json", text: true),
            Case(name: "profile --csv", arguments: { profile + ["-o", "/dev/null", "--csv", $0] }, defaultName: "report.csv", text: true),
            Case(name: "profile --html", arguments: { profile + ["-o", "/dev/null", "--html", $0] }, defaultName: "report.html", text: true),
            Case(name: "plan -o", arguments: { ["plan", self.model, report, "--target", "macs=0.9", "--quiet", "-o", $0] }, defaultName: "plan.json", text: true),
            Case(name: "prune -o", arguments: { ["prune", self.model, plan, "-o", $0] }, defaultName: "pruned.onnx", text: false),
            Case(name: "run -o", arguments: { ["run", self.model, "--data", self.data, "--quiet", "-o", $0] }, defaultName: "logits.npy", text: false),
            Case(name: "rank -o", arguments: { ["rank", report, "--format", "json", "-o", $0] }, defaultName: "rank.json", text: true),
            Case(name: "merge -o", arguments: { ["merge", report, "-o", $0] }, defaultName: "report.json", text: true),
        ]
    }

    func testDashIsStandardOutputForTextAndRefusedForBinary() throws {
        let folder = try temporaryFolder(self)
        let (report, plan) = try inputs(folder)
        let all = cases(report: report, plan: plan)
        XCTAssertEqual(all.count, 8)
        try inFolder(folder) {
            for c in all {
                let result = weakspot(c.arguments("-"))
                XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/-"), "\(c.name): wrote a file named '-'")
                if c.text {
                    XCTAssertEqual(result.code, 0, "\(c.name): \(result.error)")
                    if c.defaultName.hasSuffix(".json") {
                        XCTAssertNoThrow(try JSONValue.parse(result.output), "\(c.name): standard output is not the JSON alone: \(result.output.prefix(300))")
                    } else if c.defaultName.hasSuffix(".csv") {
                        XCTAssertTrue(result.output.hasPrefix("id,kind,layer,"), "\(c.name): \(result.output.prefix(200))")
                    } else {
                        XCTAssertTrue(result.output.hasPrefix("<!DOCTYPE html>") && result.output.hasSuffix("</html>\n"), "\(c.name): \(result.output.prefix(200))")
                    }
                } else {
                    XCTAssertEqual(result.code, 2, "\(c.name): \(result.output) \(result.error)")
                    XCTAssertTrue(result.error.contains("binary") && result.error.contains("/dev/stdout"), "\(c.name): \(result.error)")
                    XCTAssertEqual(result.output, "", c.name)
                }
            }
        }
    }

    func testAFolderGetsTheDefaultName() throws {
        let folder = try temporaryFolder(self)
        let (report, plan) = try inputs(folder)
        let all = cases(report: report, plan: plan)
        XCTAssertEqual(all.count, 8)
        for (index, c) in all.enumerated() {
            for spelling in ["", "/"] {
                let out = folder + "/out\(index)\(spelling.isEmpty ? "a" : "b")"
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
                let result = weakspot(c.arguments(out + spelling))
                XCTAssertEqual(result.code, 0, "\(c.name) \(out + spelling): \(result.error)")
                XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + c.defaultName), "\(c.name) \(out + spelling): no \(c.defaultName) inside")
            }
        }
        // `.`: the working folder.
        let here = folder + "/here"
        try FileManager.default.createDirectory(atPath: here, withIntermediateDirectories: false)
        try inFolder(here) {
            XCTAssertEqual(weakspot(all[0].arguments(".")).code, 0)
            XCTAssertEqual(weakspot(all[4].arguments(".")).code, 0)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: here).sorted(), ["pruned.onnx", "report.json"])
    }

    func testMissingFoldersAndUnwritableFoldersAreRefusedBeforeWork() throws {
        let folder = try temporaryFolder(self)
        let (report, plan) = try inputs(folder)
        let all = cases(report: report, plan: plan)
        XCTAssertEqual(all.count, 8)
        for c in all {
            for path in [folder + "/missing/", folder + "/x/y/", folder + "/x/y/out.file", "/proc/weakspot-out.file"] {
                let result = weakspot(c.arguments(path))
                XCTAssertEqual(result.code, 2, "\(c.name) \(path): \(result.output) \(result.error)")
                XCTAssertTrue(result.error.hasPrefix("error: ") && !result.error.contains("internal"), "\(c.name) \(path): \(result.error)")
                XCTAssertTrue(result.error.contains(path.hasSuffix("/") ? "does not exist" : path.hasPrefix("/proc") ? "not writable" : "/x/y does not exist"),
                              "\(c.name) \(path): \(result.error)")
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/missing"), "no folder is created for -o")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/x"), "no folder is created for -o")
    }

    func testAReadOnlyFolderIsRefused() throws {
        guard geteuid() != 0 else { throw XCTSkip("root writes into read-only folders; /proc covers the refusal") }
        let folder = try temporaryFolder(self)
        let locked = folder + "/locked"
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o555])
        let result = weakspot("profile", model, "--data", data, "--quiet", "-o", locked + "/r.json")
        XCTAssertEqual(result.code, 2)
        XCTAssertTrue(result.error.contains("not writable"), result.error)
    }

    func testAnExistingFileIsReplacedAndANameWithoutExtensionIsKept() throws {
        let folder = try temporaryFolder(self)
        let (report, plan) = try inputs(folder)
        let all = cases(report: report, plan: plan)
        XCTAssertEqual(all.count, 8)
        for (index, c) in all.enumerated() {
            let path = folder + "/existing\(index)"
            try Data("old".utf8).write(to: URL(fileURLWithPath: path))
            let result = weakspot(c.arguments(path))
            XCTAssertEqual(result.code, 0, "\(c.name): \(result.error)")
            let written = try Data(contentsOf: URL(fileURLWithPath: path))
            XCTAssertGreaterThan(written.count, 3, "\(c.name): the existing file was not replaced")
            XCTAssertFalse(FileManager.default.fileExists(atPath: path + "/" + c.defaultName))
        }
    }

    /// Two outputs on standard output, a checkpoint there, and the fine-tuning files.
    func testDashWhereItCannotBe() throws {
        let folder = try temporaryFolder(self)
        let profile = ["profile", model, "--data", data, "--quiet"]
        let refused: [[String]] = [
            profile + ["-o", "-", "--csv", "-"],
            profile + ["-o", "-", "--html", "-"],
            profile + ["-o", folder + "/r.json", "--checkpoint", "-"],
            profile + ["-o", folder + "/r.json", "--checkpoint", folder + "/nofolder/"],
            ["finetune", model, "--data", data, "--teacher", model, "-o", "-"],
            ["finetune", model, "--data", data, "--teacher", model, "-o", folder + "/t.onnx", "--checkpoint", "-"],
            ["demo", "--out", "-"],
        ]
        for arguments in refused {
            let result = weakspot(arguments)
            XCTAssertEqual(result.code, 2, "\(arguments): \(result.error)")
            XCTAssertTrue(result.error.hasPrefix("error: ") && !result.error.contains("internal"), "\(arguments): \(result.error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [], "nothing written")
        // Bare names without extension, for the report and the checkpoint, in the working folder.
        try inFolder(folder) {
            let result = weakspot(profile + ["-o", "a", "--checkpoint", "c"])
            XCTAssertEqual(result.code, 0, result.error)
        }
        XCTAssertNoThrow(try JSONValue.parse(String(contentsOfFile: folder + "/a", encoding: .utf8)))
    }

    func testFinetuneOutputs() throws {
        let folder = try temporaryFolder(self)
        let student = FixturePaths.path("models/tiny_mobilenet.onnx")
        let inputs = FixturePaths.path("models/tiny_mobilenet.input.npy")
        let result = weakspot("finetune", student, "--data", inputs, "--teacher", model, "--epochs", "1", "--batch", "2", "--threads", "2",
                              "--history", "-", "-o", folder + "/", "--quiet")
        XCTAssertEqual(result.code, 0, result.error)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/tuned.onnx"))
        XCTAssertNoThrow(try JSONValue.parse(result.output), "standard output holds the history alone: \(result.output.prefix(300))")
        XCTAssertTrue(result.error.contains("tuned model: \(folder)/tuned.onnx"), result.error)
    }

    /// Runs `body` with the working folder set to `folder`, restoring it after.
    func inFolder(_ folder: String, _ body: () throws -> Void) throws {
        let previous = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(folder))
        defer { FileManager.default.changeCurrentDirectoryPath(previous) }
        try body()
    }
}
