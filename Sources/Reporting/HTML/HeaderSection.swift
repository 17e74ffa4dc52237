import Support

/// The top of the page: what was measured (model, data, settings), the baseline and the summary
/// counts.
enum HeaderSection {
    static func write(_ data: HTMLReportData, into markup: inout HTMLMarkup) {
        let report = data.report
        markup.wrap("header", []) { markup in
            markup.element("h1", [], "WeakSpot influence report")
            let model = report["model"]?["path"]?.stringValue
            markup.element("p", [("class", "subtitle")], (model.map { "Model " + $0 } ?? "Model not named")
                           + " \u{b7} schema " + (report["schema"]?.stringValue ?? "not in this report"))
            summaryCards(report["summary"], into: &markup)
            warnings(report["warnings"], into: &markup)
        }
        markup.wrap("section", [("id", "run"), ("class", "facts")]) { markup in
            facts("Model", report["model"], order: ["path", "sha256", "params", "macs", "inputShape", "layout"], into: &markup) { key, value in
                if key == "sha256", let hash = value.stringValue { return String(hash.prefix(16)) + "\u{2026}" }
                if key == "inputShape", let shape = value.arrayValue { return shape.map { $0.intValue.map(String.init) ?? "?" }.joined(separator: "\u{d7}") }
                return nil
            }
            facts("Data", report["data"], order: ["source", "count", "preprocessing", "hardExamples", "skipped"], into: &markup) { key, value in
                if key == "skipped", let skipped = value.arrayValue { return "\(skipped.count) files" }
                return nil
            }
            facts("Settings", report["settings"], order: ["items", "layers", "perturb", "ablateAt", "metric", "weakThreshold"], into: &markup) { _, value in
                if let list = value.arrayValue, list.allSatisfy({ $0.stringValue != nil }) { return list.compactMap(\.stringValue).joined(separator: ", ") }
                return nil
            }
            facts("Baseline", report["baseline"], order: ["count", "accuracy", "loss"], into: &markup) { _, _ in nil }
            if let seconds = report["timing"]?["seconds"]?.doubleValue {
                markup.element("p", [("class", "note")], "Measured in \(HTMLNumber.short(seconds)) s.")
            }
        }
    }

    /// The report's warnings, above everything else: they say which figures below to distrust.
    static func warnings(_ warnings: JSONValue?, into markup: inout HTMLMarkup) {
        let lines = warnings?.arrayValue?.compactMap(\.stringValue) ?? []
        guard !lines.isEmpty else { return }
        markup.wrap("ul", [("class", "warnings")]) { markup in
            for line in lines { markup.element("li", [], "Warning: " + line) }
        }
    }

    static func summaryCards(_ summary: JSONValue?, into markup: inout HTMLMarkup) {
        guard let summary, summary.objectValue != nil else {
            markup.element("p", [("class", "missing")], "Summary counts: not in this report.")
            return
        }
        markup.wrap("div", [("class", "cards")]) { markup in
            for (key, label) in [("items", "items"), ("weak", "weak"), ("hiddenCritical", "hidden-critical"), ("hiddenWeak", "hidden-weak")] {
                markup.wrap("div", [("class", "card " + key)]) { markup in
                    markup.element("span", [("class", "count")], summary[key]?.cellText ?? HTMLNumber.missing)
                    markup.element("span", [("class", "what")], label)
                }
            }
        }
    }

    /// A titled key/value list of an object: `order` first, then the other keys sorted; `format`
    /// may give a key its own text.
    static func facts(_ title: String, _ object: JSONValue?, order: [String], into markup: inout HTMLMarkup,
                      format: (String, JSONValue) -> String?) {
        markup.wrap("div", [("class", "fact-block")]) { markup in
            markup.element("h2", [], title)
            guard let members = object?.objectValue else {
                markup.element("p", [("class", "missing")], "\(title): not in this report.")
                return
            }
            let keys = order.filter { members[$0] != nil } + members.keys.filter { !order.contains($0) }.sorted()
            markup.wrap("dl", []) { markup in
                for key in keys {
                    guard let value = members[key] else { continue }
                    markup.element("dt", [], key)
                    markup.element("dd", [], format(key, value) ?? value.cellText)
                }
            }
        }
    }
}
