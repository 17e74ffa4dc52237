import Foundation
import TestSupport
import WeakSpotCLI
import XCTest

/// docs/cli.md's reference part is generated from the option declarations (like
/// swift-argument-parser's help snapshots): this test fails when it differs, and rewrites it when
/// run with WEAKSPOT_UPDATE_DOCS=1.
final class CLIReferenceTests: XCTestCase {
    let path = FixturePaths.repositoryRoot.appendingPathComponent("docs/cli.md").path

    func testDocsEqualTheGeneratedReference() throws {
        let document = try String(contentsOfFile: path, encoding: .utf8)
        let updated = CLIReference.updating(document)
        if ProcessInfo.processInfo.environment["WEAKSPOT_UPDATE_DOCS"] == "1", updated != document {
            try updated.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        XCTAssertTrue(document.contains(CLIReference.markdown()),
                      "docs/cli.md differs from the generated reference: run WEAKSPOT_UPDATE_DOCS=1 swift test --filter CLIReferenceTests")
    }

    /// Each `weakspot X --help`, whole, equals the block docs/cli.md shows for it.
    func testWholeHelpTextsMatchTheDocs() throws {
        let document = try String(contentsOfFile: path, encoding: .utf8)
        let commands = CLIReference.optionNames().map(\.command)
        XCTAssertEqual(commands.count, 12)
        for command in commands {
            let help = weakspot(command, "--help")
            XCTAssertEqual(help.code, 0)
            XCTAssertTrue(document.contains("### `weakspot \(command)`\n\n```\n" + help.output + "```\n"), "\(command) --help differs from docs/cli.md")
        }
    }

    /// Every option of every command appears (as `"--name"`) in some test of this folder: an
    /// option no test passes is an option nobody has seen work.
    func testEveryOptionIsExercisedByATest() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".swift") && $0 != "CLIReferenceTests.swift" }
        XCTAssertGreaterThan(files.count, 10)
        let sources = try files.map { try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8) }.joined(separator: "\n")
        var checked = 0
        for (command, options) in CLIReference.optionNames() {
            for spellings in options {
                checked += 1
                XCTAssertTrue(spellings.contains { sources.contains("\"\($0)\"") || sources.contains("\"\($0)=") }, "no test passes \(command) \(spellings[0])")
            }
        }
        XCTAssertGreaterThan(checked, 100)
    }
}
