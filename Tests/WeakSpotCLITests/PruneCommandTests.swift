import ChannelGroups
import Foundation
import Influence
import NetworkIR
import ONNXFormat
import Support
import TestSupport
import XCTest

/// A small BatchNormalization model and a valid plan for it, shared by the prune tests.
enum PrunePlanFixture {
    static let modelPath = FixturePaths.path("models/tiny_resnet.onnx")

    static func layerGroups() throws -> (Graph, DependencyAnalysis, [LayerGroup]) {
        let graph = try Importer.importGraph(try ONNXModel.load(path: modelPath))
        let analysis = try DependencyAnalysis(graph: graph)
        return (graph, analysis, analysis.layerGroups())
    }

    /// A plan removing the first third of every prunable layer group's channels.
    static func validPlan(sha: String? = nil) throws -> [String: Any] {
        let (graph, analysis, groups) = try layerGroups()
        var entries: [[String: Any]] = []
        for lg in groups where lg.dependencyGroups.allSatisfy({ analysis.groups[$0].prunable }) && lg.channels >= 3 {
            entries.append(["id": lg.id, "layers": lg.producers.map { graph.nodes[$0].name }, "channels": lg.channels,
                            "removed": Array(0..<(lg.channels / 3))])
        }
        return ["schema": "weakspot.plan/1", "model": ["path": modelPath, "sha256": try sha ?? SHA256.hex(ofFile: modelPath)],
                "groups": entries, "paramsBefore": 1]
    }

    static func write(_ object: Any, _ folder: String, _ name: String = "plan.json") throws -> String {
        let path = folder + "/" + name
        let data = object is String ? Data((object as! String).utf8) : try JSONSerialization.data(withJSONObject: object)
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// `weakspot prune`: a valid plan writes a smaller model whose `count` matches what prune
/// printed; every malformed or mismatched plan exits 2 with a message naming the plan file.
final class PruneCommandTests: XCTestCase {
    let modelPath = PrunePlanFixture.modelPath

    func validPlan(sha: String? = nil) throws -> [String: Any] { try PrunePlanFixture.validPlan(sha: sha) }
    func layerGroups() throws -> (Graph, DependencyAnalysis, [LayerGroup]) { try PrunePlanFixture.layerGroups() }
    func write(_ object: Any, _ folder: String, _ name: String = "plan.json") throws -> String { try PrunePlanFixture.write(object, folder, name) }

    func testValidPlanWritesASmallerModel() throws {
        let folder = try temporaryFolder(self)
        let plan = try write(try validPlan(), folder)
        let output = folder + "/pruned.onnx"
        let result = weakspot("prune", modelPath, plan, "-o", output)
        XCTAssertEqual(result.code, 0, result.error)
        let count = weakspot("count", output, "--format", "json")
        XCTAssertEqual(count.code, 0, count.error)
        let totals = try XCTUnwrap(try parseJSON(count.output)["totals"] as? [String: Any])
        let before = try XCTUnwrap(try parseJSON(weakspot("count", modelPath, "--format", "json").output)["totals"] as? [String: Any])
        let params = try XCTUnwrap(totals["params"] as? Int), macs = try XCTUnwrap(totals["macs"] as? Int)
        XCTAssertLessThan(params, try XCTUnwrap(before["params"] as? Int))
        XCTAssertLessThan(macs, try XCTUnwrap(before["macs"] as? Int))
        XCTAssertTrue(result.output.contains(Self.grouped(params)), result.output)
        XCTAssertTrue(result.output.contains(Self.grouped(macs)), result.output)
    }

    static func grouped(_ n: Int) -> String {
        var digits = Array(String(n)), out = ""
        while digits.count > 3 { out = "," + String(digits.suffix(3)) + out; digits.removeLast(3) }
        return String(digits) + out
    }

    func testShaMismatchNeedsForce() throws {
        let folder = try temporaryFolder(self)
        let plan = try write(try validPlan(sha: String(repeating: "0", count: 64)), folder)
        let refused = weakspot("prune", modelPath, plan, "-o", folder + "/p.onnx")
        XCTAssertEqual(refused.code, 2)
        XCTAssertTrue(refused.error.contains(plan) && refused.error.contains("--force"), refused.error)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/p.onnx"))
        let forced = weakspot("prune", modelPath, plan, "-o", folder + "/p.onnx", "--force")
        XCTAssertEqual(forced.code, 0, forced.error)
    }

    func testHostilePlans() throws {
        let folder = try temporaryFolder(self)
        let (graph, analysis, groups) = try layerGroups()
        let valid = try validPlan()
        let entries = try XCTUnwrap(valid["groups"] as? [[String: Any]])
        let first = entries[0]
        let channels = try XCTUnwrap(first["channels"] as? Int)
        func with(_ change: ([String: Any]) -> [String: Any]) -> [String: Any] {
            var plan = valid
            plan["groups"] = [change(first)]
            return plan
        }
        func entry(_ key: String, _ value: Any) -> [String: Any] { with { var e = $0; e[key] = value; return e } }
        let blocked = try XCTUnwrap(groups.first { lg in lg.dependencyGroups.contains { !analysis.groups[$0].prunable } })
        let cases: [(String, Any, String)] = [
            ("malformed", "{\"schema\": ", "not JSON"),
            ("not an object", "[1, 2]", "expected a JSON object"),
            ("wrong schema", { var p = valid; p["schema"] = "weakspot.report/1"; return p }(), "schema"),
            ("no groups", { var p = valid; p["groups"] = nil; return p }(), "groups"),
            ("unknown group", entry("id", 10_000), "unknown group"),
            ("negative id", entry("id", -1), "id"),
            ("out of range", entry("removed", [channels]), "out of range"),
            ("negative channel", entry("removed", [-1]), "out of range"),
            ("duplicate channel", entry("removed", [0, 0]), "appears twice"),
            ("not ascending", entry("removed", [1, 0]), "ascending"),
            ("not integers", entry("removed", ["a"]), "expected an integer"),
            ("every channel", entry("removed", Array(0..<channels)), "every channel"),
            ("wrong channel count", entry("channels", channels + 1), "does not match"),
            ("wrong layers", entry("layers", ["no_such_node"]), "do not match"),
            ("duplicate group", { var p = valid; p["groups"] = [first, first]; return p }(), "appears twice"),
            ("unprunable", { var p = valid
                p["groups"] = [["id": blocked.id, "layers": blocked.producers.map { graph.nodes[$0].name }, "channels": blocked.channels, "removed": [0]]]
                return p }(), "not prunable"),
            ("no sha", { var p = valid; p["model"] = ["path": "x"]; return p }(), "sha256"),
        ]
        for (name, plan, expected) in cases {
            let path = try write(plan, folder, name.replacingOccurrences(of: " ", with: "_") + ".json")
            let result = weakspot("prune", modelPath, path, "-o", folder + "/out.onnx")
            XCTAssertEqual(result.code, 2, "\(name): \(result.error)")
            XCTAssertTrue(result.error.contains(path), "\(name): \(result.error)")
            XCTAssertTrue(result.error.contains(expected), "\(name): \(result.error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/out.onnx"))
        let missing = weakspot("prune", modelPath, folder + "/absent.json", "-o", folder + "/out.onnx")
        XCTAssertEqual(missing.code, 2)
        XCTAssertTrue(missing.error.contains(folder + "/absent.json"), missing.error)
        let noOutput = weakspot("prune", modelPath, try write(valid, folder))
        XCTAssertEqual(noOutput.code, 2)
    }
}
