import Foundation
import Influence
import Support
import TestSupport
import XCTest

/// `weakspot rank` on a report written by `weakspot profile`.
final class RankCommandTests: XCTestCase {
    func profiled() throws -> (folder: String, report: String) {
        try profiledTinyReport(self, items: "channels,groups", estimators: "l1,meanact")
    }

    func testJSONRowsFollowTheReportRanks() throws {
        let (_, path) = try profiled()
        let report = try validatedReport(path)
        let result = weakspot("rank", path, "--format", "json", "--top", "5")
        XCTAssertEqual(result.code, 0, result.error)
        let rows = try XCTUnwrap(try JSONValue.parse(result.output)["rows"]?.arrayValue)
        XCTAssertEqual(rows.count, 5)
        let channels = (report["items"]?.arrayValue ?? []).filter { $0["kind"]?.stringValue == "channel" }
            .sorted { $0["rank"]!.intValue! < $1["rank"]!.intValue! }
        XCTAssertEqual(rows.map { $0["id"]?.stringValue }, channels.prefix(5).map { $0["id"]?.stringValue })
        XCTAssertEqual(rows.map { $0["rank"]?.intValue }, [1, 2, 3, 4, 5])
    }

    func testPerLayerRanksRestartInEachLayer() throws {
        let (_, path) = try profiled()
        let result = weakspot("rank", path, "--by", "layer", "--top", "2", "--format", "csv")
        XCTAssertEqual(result.code, 0, result.error)
        let lines = result.output.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let byLayer = Dictionary(grouping: lines) { $0[4] }
        XCTAssertGreaterThan(byLayer.count, 1)
        for (layer, rows) in byLayer {
            XCTAssertEqual(rows.map { $0[1] }, ["1", "2"], layer)
            XCTAssertLessThan(Int(rows[0][0])!, Int(rows[1][0])!, "global ranks increase within \(layer)")
        }
    }

    func testStrongestGroupsTableAndSummary() throws {
        let (folder, path) = try profiled()
        let result = weakspot("rank", path, "--kind", "groups", "--order", "strongest", "--summary", "-o", folder + "/out.txt")
        XCTAssertEqual(result.code, 0, result.error)
        let text = try String(contentsOfFile: folder + "/out.txt", encoding: .utf8)
        XCTAssertTrue(text.contains("strongest group items"), text)
        XCTAssertTrue(text.contains("estimator agreement with the measurement:"), text)
        XCTAssertTrue(text.contains("group:"), text)
    }

    func testBadReportsExitTwoNamingTheFile() throws {
        let folder = try temporaryFolder(self)
        let (_, good) = try profiled()
        var report = try XCTUnwrap(try JSONValue.parse(String(contentsOfFile: good, encoding: .utf8)).objectValue)
        report["items"] = .array([.object(["id": "x"])])
        let cases: [(String, String, String)] = [
            ("missing.json", "", "does not exist"),
            ("text.json", "not json", "expected a WeakSpot report"),
            ("schema.json", #"{"schema": "other/1"}"#, "\"schema\": expected \"weakspot.report/1\""),
            ("broken.json", JSONValue.object(report).rendered(), "$.items[0]: missing required key"),
        ]
        for (name, content, fragment) in cases {
            let path = folder + "/" + name
            if !content.isEmpty { try Data(content.utf8).write(to: URL(fileURLWithPath: path)) }
            let result = weakspot("rank", path)
            XCTAssertEqual(result.code, 2, name)
            XCTAssertTrue(result.error.contains(path) && result.error.contains(fragment), "\(name): \(result.error)")
        }
        XCTAssertEqual(weakspot("rank", good, "--kind", "tensors").code, 2)
        XCTAssertEqual(weakspot("rank", good, "--by", "model").code, 2)
    }
}
