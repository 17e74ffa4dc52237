/// Report sections this page has no chart for (keys added to `weakspot.report/1` later, such as
/// stability or per-class damage): shown as compact JSON, shortened, so nothing in the report is
/// silently left out.
enum OtherSections {
    static let drawnKeys: Set<String> = ["schema", "model", "data", "settings", "baseline", "items", "layers", "groups", "agreement", "summary", "timing"]
    static let maxCharacters = 20_000

    static func write(_ data: HTMLReportData, into markup: inout HTMLMarkup) {
        let others = (data.report.objectValue ?? [:]).filter { !drawnKeys.contains($0.key) }.sorted { $0.key < $1.key }
        guard !others.isEmpty else { return }
        markup.wrap("section", [("id", "other")]) { markup in
            markup.element("h2", [], "Other report sections")
            markup.element("p", [("class", "note")], "Sections this page does not chart, as JSON.")
            for (key, value) in others {
                markup.element("h3", [], key)
                var text = value.rendered(pretty: true)
                if text.count > maxCharacters {
                    text = String(text.prefix(maxCharacters)) + "\n\u{2026} (shortened; \(text.count) characters in report.json)"
                }
                markup.element("pre", [], text)
            }
        }
    }
}
