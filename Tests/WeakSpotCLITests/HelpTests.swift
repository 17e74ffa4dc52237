import XCTest

final class HelpTests: XCTestCase {
    /// Every subcommand of SPEC.md's table.
    let all = ["demo", "count", "run", "profile", "merge", "rank", "plan", "prune", "gate", "finetune", "bench"]

    /// The subcommands that answer 'not implemented yet' (they become built one by one).
    var planned: [String] {
        all.filter { weakspot($0, "--no-such-option").error.contains("is not implemented yet") }
    }

    var built: [String] { all.filter { !planned.contains($0) } }

    func testRootHelpListsEverySubcommand() {
        let result = weakspot("--help")
        XCTAssertEqual(result.code, 0)
        XCTAssertTrue(result.output.hasPrefix("OVERVIEW: "))
        XCTAssertTrue(result.output.contains("USAGE: weakspot <subcommand>"))
        XCTAssertTrue(result.output.contains("SUBCOMMANDS:"))
        for name in all {
            XCTAssertTrue(result.output.contains("\n  \(name) "), "root help lacks \(name)")
        }
        XCTAssertTrue(Set(["demo", "count", "run", "bench"]).isSubset(of: built), "\(built)")
        XCTAssertEqual(weakspot("help").output, result.output)
    }

    func testEveryBuiltCommandHasHelp() {
        for name in built {
            let result = weakspot(name, "--help")
            XCTAssertEqual(result.code, 0, name)
            XCTAssertEqual(result.error, "", name)
            for section in ["OVERVIEW: ", "USAGE: weakspot \(name)", "OPTIONS:", "-h, --help"] {
                XCTAssertTrue(result.output.contains(section), "\(name) --help lacks \(section)")
            }
            XCTAssertEqual(weakspot("help", name).output, result.output, name)
            XCTAssertEqual(weakspot(name, "-h").output, result.output, name)
            for line in result.output.split(separator: "\n") {
                XCTAssertLessThanOrEqual(line.count, 80, "\(name) help line too long: \(line)")
            }
        }
        XCTAssertTrue(weakspot("count", "--help").output.contains("ARGUMENTS:\n  <model>"))
        XCTAssertTrue(weakspot("run", "--help").output.contains("-o, --output <logits.npy>"))
    }

    func testPlannedCommandsSayNotImplemented() {
        for name in planned {
            let result = weakspot(name, "anything")
            XCTAssertEqual(result.code, 2, name)
            XCTAssertEqual(result.output, "")
            XCTAssertTrue(result.error.hasPrefix("error: 'weakspot \(name)' is not implemented yet (issue "), result.error)
            XCTAssertEqual(result.error.split(separator: "\n").count, 1)
            let help = weakspot("help", name)
            XCTAssertEqual(help.code, 0)
            XCTAssertTrue(help.output.hasPrefix("OVERVIEW: "), help.output)
            XCTAssertTrue(help.output.contains("'weakspot \(name)' is not built yet (issue "), help.output)
        }
    }

    func testMissingAndUnknownSubcommand() {
        let none = weakspot([])
        XCTAssertEqual(none.code, 2)
        XCTAssertTrue(none.error.hasPrefix("error: expected a subcommand"))
        let typo = weakspot("cuont", "x.onnx")
        XCTAssertEqual(typo.code, 2)
        XCTAssertEqual(typo.error, "error: unknown subcommand 'cuont' (did you mean 'count'?)\nSee 'weakspot --help'.\n")
        XCTAssertEqual(weakspot("--version").code, 0)
    }
}
