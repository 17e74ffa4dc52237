import Foundation
import NetworkIR
import TestSupport
import XCTest

/// The supported-operator list lives in one place (`Importer.supportedOperators`); the docs
/// table, the README summary and `weakspot --help` must say exactly what it says.
final class OperatorTableTests: XCTestCase {
    func text(_ relative: String) throws -> String {
        try String(contentsOf: FixturePaths.repositoryRoot.appendingPathComponent(relative), encoding: .utf8)
    }

    /// The first column of docs/operators.md's first table, in order.
    func testOperatorDocsTableIsTheSupportedList() throws {
        let lines = try text("docs/operators.md").split(separator: "\n", omittingEmptySubsequences: false)
        let start = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("| Operator |") })
        let rows = lines[(start + 2)...].prefix { $0.hasPrefix("|") }
        let names = rows.map { row in
            row.split(separator: "|", omittingEmptySubsequences: true)[0].trimmingCharacters(in: .whitespaces)
                .trimmingCharacters(in: CharacterSet(charactersIn: "`"))
        }
        XCTAssertGreaterThan(names.count, 50)
        XCTAssertEqual(names, Importer.supportedOperators)
    }

    func testReadmeSummaryNamesEverySupportedOperator() throws {
        let readme = try text("README.md")
        let section = try XCTUnwrap(readme.components(separatedBy: "## Supported operators").dropFirst().first?
            .components(separatedBy: "\n## ").first)
        let words = Set(section.components(separatedBy: CharacterSet.alphanumerics.inverted))
        let missing = Importer.supportedOperators.filter { !words.contains($0) }
        XCTAssert(missing.isEmpty, "README's Supported operators lacks \(missing)")
    }

    func testRootHelpListsTheSupportedOperators() throws {
        let result = weakspot("--help")
        XCTAssertEqual(result.code, 0)
        let section = try XCTUnwrap(result.output.components(separatedBy: "ONNX OPERATORS").dropFirst().first)
        let listed = section.components(separatedBy: "\n\n")[0].split(separator: "\n").dropFirst()
            .joined(separator: " ").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        XCTAssertEqual(listed, Importer.supportedOperators)
    }
}
