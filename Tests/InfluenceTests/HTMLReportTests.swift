import Foundation
import Influence
import Reporting
import Support
import TestSupport
import XCTest

/// The HTML page of reports the profiler really wrote: well-formed, every chart drawn with as many
/// marks as the report has items, nothing fetched from the network, report text escaped, and a
/// page even for reports that lack sections. Expected counts are taken from the report JSON, not
/// from the page code.
final class HTMLReportTests: XCTestCase {
    /// One profile of the tiny ResNet's channels and groups with all three estimators, shared by
    /// the tests (a few seconds to measure).
    static let channelReport: Result<JSONValue, any Error> = Result {
        let graph = try ProfileFixtures.graph("models/tiny_resnet.onnx")
        let x = try ProfileFixtures.tensor("models/tiny_resnet.input.npy")
        var options = ProfileOptions()
        options.kinds = [.channel, .group]
        options.estimators = [.l1, .l2, .bn]
        options.bootstrapResamples = 200
        return try JSONValue.parse(try ProfileFixtures.report(graph: graph, input: x, options: options).rendered())
    }

    func page(_ report: JSONValue) throws -> (text: String, outline: HTMLPageOutline) {
        let text = try HTMLReport.render(report: report)
        return (text, try HTMLPageOutline(text))
    }

    func testChannelReportDrawsEveryChartWithOneMarkPerItem() throws {
        let report = try Self.channelReport.get()
        let (text, outline) = try page(report)
        let channels = (report["items"]?.arrayValue ?? []).filter { $0["kind"]?.stringValue == "channel" }
        XCTAssertGreaterThan(channels.count, 10)

        // Distributions: one row per layer with channels, each counting that layer's channels.
        let perLayer = Dictionary(grouping: channels) { $0["layer"]?.stringValue ?? "" }.mapValues(\.count)
        let distribution = try XCTUnwrap(outline.charts("distribution").first)
        let rows = outline.marks("g", className: "layer-row", inChart: distribution.index)
        XCTAssertEqual(rows.count, perLayer.count)
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: rows.map { ($0.attributes["data-layer"] ?? "", Int($0.attributes["data-items"] ?? "") ?? -1) }), perLayer)
        XCTAssertEqual(outline.marks("rect", className: "box", inChart: distribution.index).count, perLayer.count)
        XCTAssertEqual(outline.marks("circle", className: "dot", inChart: distribution.index).count, channels.count)
        XCTAssertEqual(outline.marks("line", className: "threshold", inChart: distribution.index).count, 1)
        // Rows in graph order: the order of the report's `layers`.
        let graphOrder = (report["layers"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }.filter { perLayer[$0] != nil }
        XCTAssertEqual(rows.map { $0.attributes["data-layer"] ?? "" }, graphOrder)

        // One scatter per estimator, one point per channel, coloured by latent class.
        let scatters = outline.charts("scatter")
        XCTAssertEqual(scatters.map { $0.attributes["data-estimator"] ?? "" }, ["l1", "l2", "bn"])
        for scatter in scatters {
            let estimator = scatter.attributes["data-estimator"] ?? ""
            let withScore = channels.filter { $0["estimators"]?[estimator]?.doubleValue != nil }
            XCTAssertGreaterThan(withScore.count, channels.count / 2, estimator)
            let points = outline.marks("circle", className: "pt", inChart: scatter.index)
            XCTAssertEqual(points.count, withScore.count, estimator)
            for latent in ["hiddenCritical", "hiddenWeak", "none"] {
                XCTAssertEqual(points.filter { $0.hasClass(latent) }.count, withScore.filter { $0["latent"]?.stringValue == latent }.count, "\(estimator) \(latent)")
            }
            let rho = try XCTUnwrap(report["agreement"]?[estimator]?["spearman"]?.doubleValue)
            XCTAssertTrue(text.contains("\(estimator) vs measured \u{2014} Spearman \u{3c1} = \(String(format: "%.4g", rho))"), estimator)
        }
        XCTAssertGreaterThan(report["summary"]?["hiddenCritical"]?.intValue ?? 0, 0, "the fixture should exercise the latent colours")

        // No sweeps in this report: said so, no curves.
        XCTAssertTrue(outline.charts("sensitivity").isEmpty)
        XCTAssertTrue(outline.text.contains("no layer sweeps in this report"))

        // Tables: agreement per estimator and per layer, weak items weakest first.
        XCTAssertEqual(rowCount(outline, table: "agreement-overall"), 3)
        XCTAssertEqual(rowCount(outline, table: "agreement-per-layer"), perLayer.count)
        let weak = (report["items"]?.arrayValue ?? []).filter { $0["weak"]?.boolValue == true }
        XCTAssertGreaterThan(weak.count, 0)
        XCTAssertEqual(rowCount(outline, table: "weak-items"), weak.count)
        let latent = (report["items"]?.arrayValue ?? []).filter { ($0["latent"]?.stringValue ?? "none") != "none" }
        XCTAssertEqual(rowCount(outline, table: "latent-items"), latent.count)

        try assertSelfContained(text, outline)
    }

    func testLayerSweepDrawsOneCurvePerLayerAndMetric() throws {
        let graph = try ProfileFixtures.graph("models/tiny_resnet.onnx")
        let x = try ProfileFixtures.tensor("models/tiny_resnet.input.npy")
        var options = ProfileOptions()
        options.kinds = [.layer]
        options.perturbation = try Perturbation.parse("prune:0.25,0.5,0.75")
        options.bootstrapResamples = 50
        let report = try JSONValue.parse(try ProfileFixtures.report(graph: graph, input: x, options: options).rendered())
        let swept = (report["layers"]?.arrayValue ?? []).filter { !($0["sensitivity"]?.arrayValue ?? []).isEmpty }
        XCTAssertGreaterThan(swept.count, 3)
        let (text, outline) = try page(report)
        let panels = outline.charts("sensitivity")
        XCTAssertEqual(panels.map { $0.attributes["data-metric"] ?? "" }, ["kl", "mse", "top1"])
        for panel in panels {
            let curves = outline.marks("polyline", className: "curve", inChart: panel.index)
            XCTAssertEqual(curves.map { $0.attributes["data-layer"] ?? "" }, swept.compactMap { $0["name"]?.stringValue })
            for curve in curves {
                let xs = (curve.attributes["points"] ?? "").split(separator: " ").compactMap { Double($0.split(separator: ",")[0]) }
                XCTAssertEqual(xs.count, 3)
                XCTAssertEqual(xs, xs.sorted(), "sparsity rises left to right")
            }
        }
        // The larger the sparsity, the larger kl: the top1/kl curves must not be flat at zero for
        // every layer (the chart would be empty).
        let kl = outline.marks("polyline", className: "curve", inChart: panels[0].index).map { $0.attributes["points"] ?? "" }
        XCTAssertTrue(kl.contains { Set($0.split(separator: " ").map { $0.split(separator: ",")[1] }).count > 1 })
        XCTAssertTrue(outline.text.contains("Estimators: none in this report"))
        try assertSelfContained(text, outline)
    }

    func testHostileNamesAreEscaped() throws {
        let report = try Self.channelReport.get()
        let hostile = "<script>alert(\"x\")</script> & 'q' <img src=http://evil/x>"
        let names = Set((report["items"]?.arrayValue ?? []).compactMap { $0["layer"]?.stringValue })
        func rename(_ value: JSONValue) -> JSONValue {
            switch value {
            case .string(let s): return names.contains(s) ? .string(hostile + s) : value
            case .array(let a): return .array(a.map(rename))
            case .object(let o): return .object(Dictionary(uniqueKeysWithValues: o.map { (names.contains($0.key) ? hostile + $0.key : $0.key, rename($0.value)) }))
            default: return value
            }
        }
        guard case .object(var object) = rename(report) else { return XCTFail("expected an object") }
        object["model"] = .object(["path": .string("\"><script>bad()</script>\u{01}.onnx")])
        object["stability"] = .object(["note": .string("</pre><script>x()</script>")])
        let (text, outline) = try page(.object(object))
        XCTAssertEqual(outline.elements.filter { $0.name == "script" }.count, 1, "only the page's own sorting script")
        XCTAssertFalse(outline.elements.contains { $0.name == "img" })
        XCTAssertFalse(text.contains("<script>alert"))
        XCTAssertTrue(outline.text.contains(hostile + names.sorted()[0]), "the name is shown as text")
        XCTAssertTrue(outline.text.contains("</pre><script>x()</script>"), "unknown sections are shown as text")
        let rows = outline.marks("g", className: "layer-row", inChart: try XCTUnwrap(outline.charts("distribution").first).index)
        XCTAssertTrue(rows.allSatisfy { $0.attributes["data-layer"]?.hasPrefix(hostile) == true })
        try assertSelfContained(text, outline, allowHTTPText: true)
    }

    func testReportsMissingSectionsStillRender() throws {
        let report = try Self.channelReport.get()
        guard case .object(var object) = report else { return XCTFail("expected an object") }
        for key in ["layers", "agreement", "summary", "settings", "groups", "model", "data", "baseline"] { object[key] = nil }
        let (_, outline) = try page(.object(object))
        XCTAssertEqual(outline.charts("distribution").count, 1, "layers come from the items")
        XCTAssertEqual(outline.charts("scatter").count, 3, "estimators come from the items")
        XCTAssertTrue(outline.text.contains("Agreement: not in this report"))
        XCTAssertTrue(outline.text.contains("Summary counts: not in this report"))
        XCTAssertTrue(outline.text.contains("Model: not in this report"))

        let (_, empty) = try page(.object([:]))
        for line in ["Per-layer influence: no measured items", "Sensitivity curves: no layer sweeps", "Estimators: none", "Items: not in this report"] {
            XCTAssertTrue(empty.text.contains(line), line)
        }
        XCTAssertTrue(empty.charts.isEmpty)
        XCTAssertThrowsError(try HTMLReport.render(report: .array([])))
        XCTAssertThrowsError(try HTMLReport.render(report: .object(["schema": .string("weakspot.plan/1")])))
    }

    /// A report the size of a large model (6,000 channels, six estimators) stays a few megabytes:
    /// scatter points are sampled and the weak table capped, and the page says so.
    func testLargeReportIsCappedAndSaysSo() throws {
        var items: [JSONValue] = []
        var state: UInt64 = 12345
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        let estimators = ["l1", "l2", "bn", "apoz", "meanact", "taylor"]
        for i in 0..<6000 {
            let layer = "/block\(i / 100)/conv/Conv"
            let mean = pow(10, -7 + 6 * uniform())
            var scores: [String: JSONValue] = [:]
            for e in estimators { scores[e] = .double(mean * pow(10, uniform())) }
            items.append(.object(["id": .string("\(layer)#\(i % 100)"), "index": .int(i), "kind": "channel", "layer": .string(layer),
                                  "channel": .int(i % 100), "influence": .object(["mean": .double(mean), "ciLow": .double(mean / 2), "ciHigh": .double(mean * 2), "n": 32]),
                                  "metrics": .object(["kl": .double(mean), "mse": .double(mean * 3), "top1": .double(0)]),
                                  "estimators": .object(scores), "rank": .int(i + 1), "weak": .bool(mean * 2 < 1e-3),
                                  "latent": .string(i % 50 == 0 ? "hiddenCritical" : i % 37 == 0 ? "hiddenWeak" : "none")]))
        }
        let weak = items.filter { $0["weak"]?.boolValue == true }.count
        XCTAssertGreaterThan(weak, HTMLReport.maxWeakRows)
        let report = JSONValue.object(["schema": "weakspot.report/1", "items": .array(items),
                                       "settings": .object(["metric": "kl", "weakThreshold": .double(1e-3)])])
        let (text, outline) = try page(report)
        XCTAssertLessThan(text.utf8.count, 3_000_000)
        XCTAssertEqual(outline.charts("scatter").count, estimators.count)
        for scatter in outline.charts("scatter") {
            XCTAssertEqual(scatter.attributes["data-items"], "6000")
            let points = outline.marks("circle", className: "pt", inChart: scatter.index)
            XCTAssertEqual(points.count, HTMLReport.maxScatterPoints)
            XCTAssertEqual(points.filter { $0.hasClass("hiddenCritical") }.count, 120, "every latent item is kept")
        }
        XCTAssertEqual(rowCount(outline, table: "weak-items"), HTMLReport.maxWeakRows)
        XCTAssertTrue(outline.text.contains("Only the first 2000 of \(weak) are listed"))
        XCTAssertTrue(outline.text.contains("show every latent item and an even sample"))
        XCTAssertEqual(outline.marks("g", className: "layer-row", inChart: outline.charts("distribution")[0].index).count, 60)
    }

    // MARK: - Helpers

    func rowCount(_ outline: HTMLPageOutline, table id: String) -> Int? {
        guard let table = outline.elements.firstIndex(where: { $0.name == "table" && $0.attributes["id"] == id }) else { return nil }
        var count = 0, inBody = false
        for element in outline.elements[(table + 1)...] {
            if element.name == "table" { break }
            if element.name == "tbody" { inBody = true }
            if inBody && element.name == "tr" { count += 1 }
        }
        return count
    }

    /// Nothing is loaded from elsewhere: no src, no stylesheet link, no remote href, no handler
    /// attributes; and (unless report text may hold it) no URL anywhere.
    func assertSelfContained(_ text: String, _ outline: HTMLPageOutline, allowHTTPText: Bool = false, file: StaticString = #filePath, line: UInt = #line) throws {
        for element in outline.elements {
            XCTAssertNil(element.attributes["src"], "\(element.name) has src", file: file, line: line)
            XCTAssertNotEqual(element.name, "link", file: file, line: line)
            XCTAssertNotEqual(element.name, "iframe", file: file, line: line)
            if let href = element.attributes["href"] { XCTAssertTrue(href.hasPrefix("#"), href, file: file, line: line) }
            XCTAssertFalse(element.attributes.keys.contains { $0.lowercased().hasPrefix("on") }, "\(element.name) has a handler", file: file, line: line)
        }
        if !allowHTTPText {
            XCTAssertFalse(text.contains("http://") || text.contains("https://"), file: file, line: line)
        }
        XCTAssertFalse(text.contains("@import") || text.contains("url("), file: file, line: line)
    }
}
