import Support

/// The item tables: latent items (where a cheap criterion and the measurement disagree) and weak
/// items (what the measurement says can go), weakest first.
enum ItemTables {
    static let maxWeakRows = 2000
    static let maxLatentRows = 500

    static func writeLatent(_ data: HTMLReportData, into markup: inout HTMLMarkup) {
        markup.wrap("section", [("id", "latent")]) { markup in
            markup.element("h2", [], "Latent items")
            guard data.items.contains(where: { $0["latent"] != nil }) else {
                markup.element("p", [("class", "missing")], "Latent classes: not in this report.")
                return
            }
            let latent = data.items.filter { ($0["latent"]?.stringValue ?? "none") != "none" }
            guard !latent.isEmpty else {
                markup.element("p", [("class", "note")], "No latent items: the estimator and the measurement agree at both ends (or no estimator was asked for).")
                return
            }
            let ordered = latent.sorted { a, b in
                let (la, lb) = (a["latent"]?.stringValue ?? "", b["latent"]?.stringValue ?? "")
                if la != lb { return la < lb }
                return rank(a) < rank(b)
            }
            let estimator = data.report["agreement"]?["latent"]?["estimator"]?.stringValue ?? data.estimators.first
            var columns: [(title: String, numeric: Bool)] = [("latent", false), ("id", false), ("layer", false), ("channel", true),
                                                             ("influence", true), ("CI high", true)]
            if let estimator { columns.append((estimator, true)) }
            columns.append(("rank", true))
            let rows: [[TableCell]] = ordered.prefix(maxLatentRows).map { item in
                var row: [TableCell] = [TableCell(item["latent"]?.stringValue ?? ""), TableCell(item["id"]?.stringValue ?? ""),
                                        TableCell(item["layer"]?.stringValue ?? ""), .integer(item["channel"]?.intValue),
                                        .number(item["influence"]?["mean"]?.doubleValue), .number(item["influence"]?["ciHigh"]?.doubleValue)]
                if let estimator { row.append(.number(item["estimators"]?[estimator]?.doubleValue)) }
                row.append(.integer(item["rank"]?.intValue))
                return row
            }
            let critical = latent.filter { $0["latent"]?.stringValue == "hiddenCritical" }.count
            markup.element("p", [("class", "note")], "\(critical) hidden-critical and \(latent.count - critical) other latent items." + truncation(shown: rows.count, of: latent.count))
            HTMLTable.write(id: "latent-items", columns: columns, rows: rows, sortable: true, into: &markup)
        }
    }

    static func writeWeak(_ data: HTMLReportData, into markup: inout HTMLMarkup) {
        markup.wrap("section", [("id", "weak")]) { markup in
            markup.element("h2", [], "Weak items")
            guard !data.items.isEmpty else {
                markup.element("p", [("class", "missing")], "Items: not in this report.")
                return
            }
            let weak = data.items.filter { $0["weak"]?.boolValue == true }.sorted { rank($0) < rank($1) }
            let threshold = data.weakThreshold.map { HTMLNumber.short($0) } ?? "the threshold"
            guard !weak.isEmpty else {
                markup.element("p", [("class", "note")], "No item is weak: no 95% interval of \(data.metric) lies below \(threshold).")
                return
            }
            let metricNames = ["kl", "mse", "top1", "acc", "loss"].filter { name in data.items.contains { $0["metrics"]?[name] != nil } }
            let estimators = data.estimators.filter { name in weak.contains { $0["estimators"]?[name] != nil } }
            let columns: [(title: String, numeric: Bool)] = [("rank", true), ("id", false), ("kind", false), ("layer", false), ("channel", true),
                                                             ("mean", true), ("CI low", true), ("CI high", true)]
                + metricNames.map { ($0, true) } + estimators.map { ($0, true) } + [("latent", false)]
            let rows: [[TableCell]] = weak.prefix(maxWeakRows).map { item in
                let influence = item["influence"]
                return [.integer(item["rank"]?.intValue), TableCell(item["id"]?.stringValue ?? ""), TableCell(item["kind"]?.stringValue ?? ""),
                        TableCell(item["layer"]?.stringValue ?? ""), .integer(item["channel"]?.intValue),
                        .number(influence?["mean"]?.doubleValue), .number(influence?["ciLow"]?.doubleValue), .number(influence?["ciHigh"]?.doubleValue)]
                    + metricNames.map { .number(item["metrics"]?[$0]?.doubleValue) }
                    + estimators.map { .number(item["estimators"]?[$0]?.doubleValue) }
                    + [TableCell(item["latent"]?.stringValue ?? "")]
            }
            markup.element("p", [("class", "note")],
                           "\(weak.count) items whose 95% interval of \(data.metric) lies below \(threshold), weakest first; click a header to sort."
                           + truncation(shown: rows.count, of: weak.count))
            HTMLTable.write(id: "weak-items", columns: columns, rows: rows, sortable: true, into: &markup)
        }
    }

    static func rank(_ item: JSONValue) -> Int { item["rank"]?.intValue ?? Int.max }

    static func truncation(shown: Int, of total: Int) -> String {
        shown < total ? " Only the first \(shown) of \(total) are listed; report.json and the CSV hold them all." : ""
    }
}
