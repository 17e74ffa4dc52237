import Foundation
import Influence
import Support
import TestSupport
import XCTest

/// The report's JSON Schema: the file in docs/ is the one built into the binary, it accepts real
/// reports, and the validator rejects what the schema forbids.
final class ReportSchemaTests: XCTestCase {
    func testDocsSchemaIsTheBuiltInOne() throws {
        let docs = FixturePaths.repositoryRoot.appendingPathComponent("docs/schemas/report.schema.json").path
        let text = try String(contentsOfFile: docs, encoding: .utf8)
        XCTAssertEqual(text.trimmingCharacters(in: .whitespacesAndNewlines), ReportSchema.text.trimmingCharacters(in: .whitespacesAndNewlines),
                       "docs/schemas/report.schema.json and Sources/Influence/Report/ReportSchema.swift differ")
        XCTAssertEqual(ReportSchema.validator.violations(of: .object([:])).isEmpty, false)
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
        check({ _, i in i["rank"] = "1" }, expect: "$.items[0].rank: expected integer, got string")
        check({ _, i in i["latent"] = "maybe" }, expect: "$.items[0].latent")
        check({ _, i in i["kind"] = "neuron" }, expect: "$.items[0].kind")
        check({ _, i in i["influence"] = ["mean": 1.0] }, expect: "missing required key 'ciHigh'")
        check({ _, i in i["estimators"] = ["l3": 1.0] }, expect: "$.items[0].estimators.l3")
        check({ _, i in i["metrics"] = ["kl": 0.0, "mse": 0.0, "top1": 2.0] }, expect: "above the maximum")
        check({ t, _ in t["settings"] = ["items": []] }, expect: "$.settings")
        items[0] = .object(item)
        top["items"] = .array(items)
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
