import Foundation
import Influence
import Support
import TestSupport
import XCTest

/// The report's JSON Schema: the file in docs/ is the one built into the binary, it accepts real
/// reports, and the validator rejects what the schema forbids.
final class ReportSchemaTests: XCTestCase {
    /// ReportSchemaText.swift is generated from the docs file: this test is the generator
    /// (WEAKSPOT_UPDATE_DOCS=1 rewrites it) and fails when the two differ.
    func testBuiltInSchemaIsGeneratedFromTheDocsFile() throws {
        let root = FixturePaths.repositoryRoot
        let docs = try String(contentsOfFile: root.appendingPathComponent("docs/schemas/report.schema.json").path, encoding: .utf8)
        let sourcePath = root.appendingPathComponent("Sources/Influence/Report/ReportSchemaText.swift").path
        let generated = Self.generatedSource(schema: docs)
        let current = try String(contentsOfFile: sourcePath, encoding: .utf8)
        if ProcessInfo.processInfo.environment["WEAKSPOT_UPDATE_DOCS"] == "1", generated != current {
            try generated.write(toFile: sourcePath, atomically: true, encoding: .utf8)
            return
        }
        XCTAssertEqual(current, generated, "Sources/Influence/Report/ReportSchemaText.swift is not generated from docs/schemas/report.schema.json: run WEAKSPOT_UPDATE_DOCS=1 swift test --filter ReportSchemaTests")
        XCTAssertEqual(ReportSchema.text.trimmingCharacters(in: .whitespacesAndNewlines), docs.trimmingCharacters(in: .whitespacesAndNewlines))
        XCTAssertEqual(ReportSchema.validator.violations(of: .object([:])).isEmpty, false)
    }

    /// The generator refuses a schema the raw string could not hold, rather than writing Swift
    /// that does not compile.
    func testGeneratorKeepsTheTextVerbatim() throws {
        let source = Self.generatedSource(schema: "{\"a\": \"\\\\d\"}\n")
        XCTAssertTrue(source.contains("#\"\"\"\n{\"a\": \"\\\\d\"}\n\"\"\"#"), source)
        XCTAssertFalse(Self.generatedSource(schema: "x").contains("\n\n\"\"\"#"))
    }

    static func generatedSource(schema: String) -> String {
        precondition(!schema.contains("\"\"\"#"), "the schema text would end the raw string")
        var body = schema
        while body.hasSuffix("\n") { body.removeLast() }
        return """
        // Generated from docs/schemas/report.schema.json by ReportSchemaTests (run
        // WEAKSPOT_UPDATE_DOCS=1 swift test --filter ReportSchemaTests after editing the schema); do not edit.

        extension ReportSchema {
            /// The text of docs/schemas/report.schema.json.
            public static let text = #\"\"\"
        \(body)
        \"\"\"#
        }

        """
    }

    func testSchemaUsesOnlyCheckedKeywords() throws {
        // An unsupported keyword would be reported on every document; a valid report has none.
        let report = try smallReport()
        XCTAssertEqual(ReportSchema.validator.violations(of: report), [])
    }

    func testViolationsAreFound() throws {
        let report = try smallReport()
        guard case .object(var top) = report, case .array(var items)? = top["items"], case .object(let item) = items[0] else {
            return XCTFail("unexpected report shape")
        }
        func check(_ mutate: (inout [String: JSONValue], inout [String: JSONValue]) -> Void, expect fragment: String) {
            var t = top, i = item
            mutate(&t, &i)
            var list = items
            list[0] = .object(i)
            t["items"] = .array(list)
            let problems = ReportSchema.validator.violations(of: .object(t))
            XCTAssertTrue(problems.contains { $0.contains(fragment) }, "expected a violation mentioning \(fragment), got \(problems)")
        }
        check({ t, _ in t["schema"] = "weakspot.report/2" }, expect: "$.schema")
        check({ t, _ in t["model"] = nil }, expect: "missing required key 'model'")
        check({ _, i in i["rank"] = "1" }, expect: "$.items[0].rank: expected integer or null, got string")
        check({ _, i in i["latent"] = "maybe" }, expect: "$.items[0].latent")
        check({ _, i in i["kind"] = "neuron" }, expect: "$.items[0].kind")
        check({ _, i in i["influence"] = ["mean": 1.0] }, expect: "missing required key 'ciHigh'")
        check({ _, i in i["estimators"] = ["l3": 1.0] }, expect: "$.items[0].estimators.l3")
        check({ _, i in i["metrics"] = ["kl": 0.0, "mse": 0.0, "top1": 2.0] }, expect: "above the maximum")
        check({ t, _ in t["settings"] = ["items": []] }, expect: "$.settings")
        items[0] = .object(item)
        top["items"] = .array(items)
    }

    /// The typed report reads what the commands act on, in rank order per kind, and a field it
    /// needs that is missing is an error naming the field, never a default.
    func testTypedReportReadsTheFieldsAndNamesAMissingOne() throws {
        let json = try smallReport()
        let report = try Report(json: json)
        XCTAssertEqual(report.kindsPresent, [.channel, .group])
        XCTAssertEqual(report.metric, json["settings"]?["metric"]?.stringValue)
        XCTAssertEqual(report.items.count, json["items"]?.arrayValue?.count)
        let ranks = report.ranked(.channel).map { $0.rank! }
        XCTAssertFalse(ranks.isEmpty)
        XCTAssertEqual(ranks, ranks.sorted())
        XCTAssertEqual(report.comparedEstimators.isEmpty, false)
        XCTAssertEqual(try report.kind(named: "groups"), .group)
        XCTAssertThrowsError(try report.kind(named: "layers")) { error in
            XCTAssertEqual("\(error)", "--kind: the report has channel, group items, not 'layers'")
        }
        for (path, key) in [(["settings"], "metric"), (["summary"], "hiddenCritical"), (["model"], "sha256")] {
            var object = try XCTUnwrap(json.objectValue)
            var inner = try XCTUnwrap(object[path[0]]?.objectValue)
            inner[key] = nil
            object[path[0]] = .object(inner)
            XCTAssertThrowsError(try Report(json: .object(object))) { error in
                XCTAssertTrue("\(error)".hasPrefix("\(path[0]).\(key): expected"), "\(error)")
            }
        }
    }

    func smallReport() throws -> JSONValue {
        let graph = try ProfileFixtures.graph("models/tiny_resnet.onnx")
        let x = try ProfileFixtures.tensor("models/tiny_resnet.input.npy")
        var options = ProfileOptions()
        options.kinds = [.channel, .group]
        options.estimators = EstimatorKind.allCases
        return try JSONValue.parse(ProfileReport.text(try ProfileFixtures.report(graph: graph, input: x, options: options)))
    }
}
