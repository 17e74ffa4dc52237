import Support

/// How well each estimator predicted the measurement: one row per estimator overall, then one row
/// per layer with each estimator's rank correlations (and a recommended estimator when the
/// report names one).
enum AgreementTables {
    static func write(_ data: HTMLReportData, into markup: inout HTMLMarkup) {
        markup.wrap("section", [("id", "agreement")]) { markup in
            markup.element("h2", [], "Agreement of estimators with the measurement")
            let agreement = data.report["agreement"]
            let compared = data.estimators.filter { agreement?[$0]?.objectValue != nil }
            guard !compared.isEmpty, let agreement else {
                markup.element("p", [("class", "missing")], "Agreement: not in this report (it needs --estimators and at least 3 items).")
                return
            }
            let known = ["items", "n", "spearman", "kendall", "k", "bottomKOverlap", "perLayer"]
            let extra = Set(compared.flatMap { name in (agreement[name]?.objectValue ?? [:]).filter { $0.value.isScalar }.keys }).subtracting(known).sorted()
            let columns: [(title: String, numeric: Bool)] = [("estimator", false), ("items", false), ("n", true), ("Spearman \u{3c1}", true),
                                                             ("Kendall \u{3c4}-b", true), ("k", true), ("weakest-k overlap", true)] + extra.map { ($0, true) }
            let rows: [[TableCell]] = compared.map { name in
                let a = agreement[name]
                return [TableCell(name), TableCell(a?["items"]?.stringValue ?? HTMLNumber.missing), .integer(a?["n"]?.intValue),
                        .number(a?["spearman"]?.doubleValue), .number(a?["kendall"]?.doubleValue), .integer(a?["k"]?.intValue),
                        TableCell(HTMLNumber.percent(a?["bottomKOverlap"]?.doubleValue))]
                    + extra.map { TableCell(a?[$0]?.cellText ?? HTMLNumber.missing) }
            }
            HTMLTable.write(id: "agreement-overall", columns: columns, rows: rows, sortable: false, into: &markup)
            perLayer(data, compared: compared, agreement: agreement, into: &markup)
            latentSummary(agreement["latent"], into: &markup)
        }
    }

    static func perLayer(_ data: HTMLReportData, compared: [String], agreement: JSONValue, into markup: inout HTMLMarkup) {
        let perLayer = compared.map { agreement[$0]?["perLayer"]?.objectValue ?? [:] }
        let layers = data.layerOrder.filter { name in perLayer.contains { $0[name] != nil } }
        markup.element("h3", [], "Per layer")
        guard !layers.isEmpty else {
            markup.element("p", [("class", "missing")], "Per-layer agreement: not in this report.")
            return
        }
        let recommended = layers.map { recommendation(for: $0, agreement: agreement, perLayer: perLayer) }
        let showRecommended = recommended.contains { $0 != nil }
        var columns: [(title: String, numeric: Bool)] = [("layer", false), ("n", true)]
        for name in compared { columns += [("\(name) \u{3c1}", true), ("\(name) \u{3c4}", true)] }
        if showRecommended { columns.append(("recommended", false)) }
        let rows: [[TableCell]] = layers.enumerated().map { index, layer in
            let n = perLayer.lazy.compactMap { $0[layer]?["n"]?.intValue }.first
            var row: [TableCell] = [TableCell(layer), .integer(n)]
            for entries in perLayer {
                row += [.number(entries[layer]?["spearman"]?.doubleValue), .number(entries[layer]?["kendall"]?.doubleValue)]
            }
            if showRecommended { row.append(TableCell(recommended[index] ?? HTMLNumber.missing)) }
            return row
        }
        HTMLTable.write(id: "agreement-per-layer", columns: columns, rows: rows, sortable: true, into: &markup)
    }

    /// The estimator the report recommends for a layer, wherever it puts it: `agreement.recommended
    /// {layer: name or {estimator}}`, or a `recommended` in an estimator's per-layer entry.
    static func recommendation(for layer: String, agreement: JSONValue, perLayer: [[String: JSONValue]]) -> String? {
        func text(_ value: JSONValue?) -> String? {
            guard let value else { return nil }
            if let name = value.stringValue { return name }
            if let name = value["estimator"]?.stringValue { return name }
            if case .null = value { return nil }
            return value.cellText
        }
        if let named = text(agreement["recommended"]?[layer]) { return named }
        return perLayer.lazy.compactMap { text($0[layer]?["recommended"]) }.first
    }

    static func latentSummary(_ latent: JSONValue?, into markup: inout HTMLMarkup) {
        guard let latent, latent.objectValue != nil else { return }
        let estimator = latent["estimator"]?.stringValue ?? "?"
        markup.element("p", [("class", "note")],
                       "Latent rule (\(estimator), q = \(latent["fraction"]?.cellText ?? "?")): \(latent["hiddenCritical"]?.cellText ?? "?") hidden-critical — in the estimator's weakest q but the measurement's strongest q; \(latent["hiddenWeak"]?.cellText ?? "?") hidden-weak — in the estimator's strongest q but measured weak.")
    }
}
