import Foundation
import XCTest

/// The module graph cannot drift: Package.swift's target dependencies equal the table in
/// docs/architecture.md, and every target's dependencies are exactly the project modules its files
/// import (no unused edge, no module reached only transitively). Reads the files as text, so it
/// checks the tree it was built from.
final class ModuleGraphTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    struct Target {
        var kind: String
        var dependencies: Set<String>
        var path: String
    }

    /// Every `.target`, `.testTarget` and `.executableTarget` of Package.swift.
    static func packageTargets() throws -> [String: Target] {
        let text = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let pattern = try NSRegularExpression(pattern:
            #"\.(target|testTarget|executableTarget)\(name: "([\w-]+)"(?:, dependencies: \[([^\]]*)\])?(?:, path: "([^"]+)")?"#)
        var targets: [String: Target] = [:]
        for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            func group(_ i: Int) -> String? { Range(match.range(at: i), in: text).map { String(text[$0]) } }
            let kind = group(1)!, name = group(2)!
            let dependencies = (group(3) ?? "").split(separator: ",")
                .map { $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
                .filter { !$0.isEmpty }
            targets[name] = Target(kind: kind, dependencies: Set(dependencies),
                                   path: group(4) ?? (kind == "testTarget" ? "Tests/" : "Sources/") + name)
        }
        return targets
    }

    /// The rows of the table between the `module-graph` markers of docs/architecture.md.
    static func documentedGraph() throws -> [String: Set<String>] {
        let text = try String(contentsOf: root.appendingPathComponent("docs/architecture.md"), encoding: .utf8)
        let lines = text.components(separatedBy: "\n")
        guard let start = lines.firstIndex(of: "<!-- module-graph begin -->"),
              let end = lines.firstIndex(of: "<!-- module-graph end -->"), start < end else { return [:] }
        var graph: [String: Set<String>] = [:]
        for line in lines[(start + 1)..<end] where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let name = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            let dependencies = cells.count > 1 && cells[1] != "—"
                ? cells[1].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } : []
            graph[name] = Set(dependencies)
        }
        return graph
    }

    func testArchitectureTableEqualsPackageSwift() throws {
        let targets = try Self.packageTargets().filter { $0.value.kind != "testTarget" && $0.key != "TestSupport" }
        let documented = try Self.documentedGraph()
        XCTAssertGreaterThanOrEqual(targets.count, 15, "Package.swift was not parsed")
        XCTAssertEqual(Set(documented.keys), Set(targets.keys), "targets in docs/architecture.md's table vs Package.swift")
        for (name, target) in targets {
            XCTAssertEqual(documented[name], target.dependencies, "dependencies of \(name): docs/architecture.md vs Package.swift")
        }
    }

    func testEveryEdgeIsImportedAndEveryImportDeclared() throws {
        let targets = try Self.packageTargets()
        let modules = Set(targets.keys)
        var checked = 0
        for (name, target) in targets {
            let folder = Self.root.appendingPathComponent(target.path)
            guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { continue }
            var imported: Set<String> = []
            var swiftFiles = 0
            for case let file as URL in walker where file.pathExtension == "swift" {
                swiftFiles += 1
                for line in try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\n") {
                    let words = line.split(separator: " ")
                    guard let at = words.firstIndex(of: "import"), at <= 1, words.count == at + 2 else { continue }
                    if modules.contains(String(words[at + 1])) { imported.insert(String(words[at + 1])) }
                }
            }
            guard swiftFiles > 0 else { continue }  // C targets
            checked += 1
            XCTAssertEqual(target.dependencies.subtracting(imported), [], "\(name) declares dependencies no file imports")
            XCTAssertEqual(imported.subtracting(target.dependencies), [], "\(name) imports modules it does not declare")
        }
        XCTAssertGreaterThanOrEqual(checked, 25, "targets with Swift files")
    }
}
