import Foundation
import Influence
import Reporting
import Support
import TestSupport
import XCTest

/// The CSV carries the JSON's numbers: every row parses back to the values of its item.
final class ReportCSVTests: XCTestCase {
    func testCSVRoundTripsToTheJSONNumbers() throws {
        let graph = try ProfileFixtures.graph("models/tiny_resnet.onnx")
        let x = try ProfileFixtures.tensor("models/tiny_resnet.input.npy")
        var options = ProfileOptions()
        options.kinds = [.channel, .group]
        let report = try JSONValue.parse(try ProfileFixtures.report(graph: graph, input: x, options: options).rendered())
        let lines = ReportCSV.text(report).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, ReportCSV.columns.joined(separator: ","))
        let items = try XCTUnwrap(report["items"]?.arrayValue)
        XCTAssertEqual(lines.count - 1, items.count)
        for (line, item) in zip(lines.dropFirst(), items) {
            // Node names here have no commas, so a plain split is the CSV parse.
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            XCTAssertEqual(fields.count, ReportCSV.columns.count)
            let row = Dictionary(uniqueKeysWithValues: zip(ReportCSV.columns, fields))
            XCTAssertEqual(row["id"], item["id"]?.stringValue)
            for (column, value) in [("influence_mean", item["influence"]?["mean"]), ("influence_ci_high", item["influence"]?["ciHigh"]),
                                    ("kl", item["metrics"]?["kl"]), ("mse", item["metrics"]?["mse"]), ("top1", item["metrics"]?["top1"])] {
                XCTAssertEqual(Double(try XCTUnwrap(row[column])), try XCTUnwrap(value?.doubleValue), "\(item["id"]?.stringValue ?? "") \(column)")
            }
            XCTAssertEqual(Int(try XCTUnwrap(row["rank"])), item["rank"]?.intValue)
            XCTAssertEqual(row["weak"], item["weak"]?.boolValue == true ? "true" : "false")
            XCTAssertEqual(row["channel"], item["channel"]?.intValue.map(String.init) ?? "")
        }
    }

    func testFieldsWithCommasAreQuoted() throws {
        let report = JSONValue.object(["items": .array([.object(["id": .string("a,b\"c"), "kind": .string("channel")])])])
        let row = ReportCSV.text(report).split(separator: "\n")[1]
        XCTAssertTrue(row.hasPrefix("\"a,b\"\"c\",channel,"), String(row))
    }
}
