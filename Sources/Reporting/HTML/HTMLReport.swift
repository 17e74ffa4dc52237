import Influence
import Support

/// `--html FILE`: report.json as one self-contained page — inline SVG charts and inline CSS, no
/// external script, font, image or link, so it opens offline and can be attached to a ticket. A
/// small inline script sorts the tables; the page reads fine without it. The markup is also
/// well-formed XML. Sections the report lacks are named as "not in this report" rather than
/// failing, so reports from older or newer versions of `weakspot.report/1` still render.
public enum HTMLReport {
    /// Rows of the weak-item table at most (the page says when more are weak).
    public static var maxWeakRows: Int { ItemTables.maxWeakRows }
    /// Points of one scatter plot at most (every latent item, then an even sample).
    public static var maxScatterPoints: Int { ScatterChart.maxPoints }

    /// The page for a parsed report. Throws `InfluenceError` when `report` is not a JSON object
    /// or names a schema other than `weakspot.report/…`.
    public static func render(report: JSONValue) throws(InfluenceError) -> String {
        guard report.objectValue != nil else { throw InfluenceError("report: expected a JSON object at the top level") }
        if let schema = report["schema"], !(schema.stringValue?.hasPrefix("weakspot.report/") ?? false) {
            throw InfluenceError("report: 'schema': expected \"weakspot.report/1\", got \(schema.rendered(pretty: false))")
        }
        let data = HTMLReportData(report: report)
        var body = HTMLMarkup()
        body.wrap("body", []) { markup in
            HeaderSection.write(data, into: &markup)
            DistributionChart.write(data, into: &markup)
            SensitivityChart.write(data, into: &markup)
            QuantizationHeatMap.write(data, into: &markup)
            ScatterChart.write(data, into: &markup)
            AgreementTables.write(data, into: &markup)
            ItemTables.writeLatent(data, into: &markup)
            ItemTables.writeWeak(data, into: &markup)
            OtherSections.write(data, into: &markup)
            markup.raw("<script>//<![CDATA[\n" + HTMLReportStyle.script + "\n//]]></script>")
        }
        var markup = HTMLMarkup()
        markup.raw("<!DOCTYPE html>\n")
        markup.open("html", [("lang", "en")])
        markup.wrap("head", []) { markup in
            markup.empty("meta", [("charset", "utf-8")])
            markup.empty("meta", [("name", "viewport"), ("content", "width=device-width, initial-scale=1")])
            let model = report["model"]?["path"]?.stringValue.map { " \u{2014} " + $0 } ?? ""
            markup.element("title", [], "WeakSpot report" + model)
            markup.raw("<style>\n" + HTMLReportStyle.css + "\n" + body.styleRules.joined(separator: "\n") + "\n</style>")
        }
        markup.raw(body.text)
        markup.close("html")
        return markup.text + "\n"
    }
}
