import Influence
import Support

/// The terminal summary of a report, shared by `profile` and `rank`: per-layer table, weakest
/// items, latent items, estimator agreement, rank stability.
public enum ReportSummary {
    /// Items come typed from `Report` (rank, influence, weak); the optional sections (warnings,
    /// agreement, stability) are shown when present.
    public static func text(_ typed: Report, top: Int) -> String {
        let report = typed.json
        var out = ""
        for warning in report["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? [] { out += "warning: \(warning)\n" }
        // The finest kind present (channels, else groups…): ranks run within a kind.
        guard let kind = typed.kindsPresent.first else { return out + "no items\n" }
        let ranked = typed.ranked(kind)
        out += "per layer (\(kind.rawValue) items, influence = \(typed.metric)):\n" + layerTable(typed, items: ranked).rendered()
        out += "\nweakest \(min(top, ranked.count)) \(kind.rawValue) items:\n" + itemTable(Array(ranked.prefix(top))).rendered()
        let latent = ranked.filter { latency($0) != "none" }
        if !latent.isEmpty {
            let critical = latent.filter { latency($0) == "hiddenCritical" }.sorted { mean($0) > mean($1) }
            let estimator = report["agreement"]?["latent"]?["estimator"]?.stringValue ?? "the estimator"
            out += "\nlatent: \(critical.count) hidden-critical (\(estimator) would prune them; measured among the strongest), "
                + "\(latent.count - critical.count) hidden-weak; strongest hidden-critical:\n"
            out += itemTable(Array(critical.prefix(top))).rendered()
        }
        if let agreement = agreementTable(report) { out += "\nestimator agreement with the measurement:\n" + agreement.rendered() }
        if let recommended = report["agreement"]?["recommended"]?["overall"]?["estimator"]?.stringValue,
           let threshold = report["agreement"]?["recommended"]?["threshold"]?.doubleValue {
            out += "recommended estimator (cheapest with Spearman ≥ \(threshold)): \(recommended)\n"
        }
        if let stability = report["stability"], let tau = stability["halvesKendall"]?.doubleValue {
            out += "rank stability: Kendall τ between halves of the inputs \(NumberText.fixed(tau, decimals: 2))"
            if let b = stability["bootstrapKendall"], let m = b["mean"]?.doubleValue {
                out += ", bootstrap resamples vs all \(NumberText.fixed(m, decimals: 2)) (min \(NumberText.fixed(b["min"]?.doubleValue ?? .nan, decimals: 2)))"
            }
            out += "\n"
            if let estimate = stability["estimate"], let n = estimate["measuredInputs"]?.intValue {
                let counts = StabilityEstimate.targets.map { String($0) }.compactMap { t in estimate["inputsForHalvesKendall"]?[t].map { (t, $0.intValue) } }
                let said = counts.map { t, c in "τ \(t): " + (c.map { n >= $0 ? "reached" : "~\(NumberText.grouped($0)) inputs" } ?? "out of reach") }
                if !said.isEmpty { out += "  stable enough? measured on \(n) inputs; estimated from the bootstrap: " + said.joined(separator: ", ") + "\n" }
            }
        }
        return out
    }

    /// The influence mean; NaN (shown as such) where the report has none.
    static func mean(_ item: ReportItem) -> Double { item.influence?.mean ?? .nan }

    /// `latent`: absent means the item was not compared with an estimator.
    static func latency(_ item: ReportItem) -> String { item.json["latent"]?.stringValue ?? "none" }

    static func layerTable(_ report: Report, items: [ReportItem]) -> TextTable {
        var table = TextTable(headers: ["layer", "items", "weak", "median", "max", "MACs"], alignments: [.left, .right, .right, .right, .right, .right])
        let byLayer = Dictionary(grouping: items, by: \.layer)
        for (name, macs) in zip(report.layerNames, report.layerMACs) {
            guard let items = byLayer[name], !items.isEmpty else { continue }
            let means = items.map(mean).sorted()
            table.rows.append([name, "\(items.count)", "\(items.filter { $0.weak == true }.count)",
                               NumberText.scientific(means[means.count / 2]), NumberText.scientific(means.last!), NumberText.grouped(macs)])
        }
        return table
    }

    static func itemTable(_ items: [ReportItem]) -> TextTable {
        var table = TextTable(headers: ["rank", "id", "influence", "95% interval", "weak", "latent"], alignments: [.right, .left, .right, .left, .left, .left])
        for item in items {
            table.rows.append([item.rank.map(String.init) ?? "-", item.id, NumberText.scientific(mean(item)),
                               "[\(NumberText.scientific(item.influence?.ciLow ?? .nan)), \(NumberText.scientific(item.influence?.ciHigh ?? .nan))]",
                               item.weak == true ? "yes" : "no", latency(item)])
        }
        return table
    }

    static func agreementTable(_ report: JSONValue) -> TextTable? {
        var table = TextTable(headers: ["estimator", "Spearman", "Kendall", "weakest-10% overlap"], alignments: [.left, .right, .right, .right])
        for kind in EstimatorKind.allCases {
            guard let a = report["agreement"]?[kind.rawValue] else { continue }
            table.rows.append([kind.rawValue, NumberText.fixed(a["spearman"]?.doubleValue ?? .nan, decimals: 3),
                               NumberText.fixed(a["kendall"]?.doubleValue ?? .nan, decimals: 3),
                               NumberText.fixed(a["bottomKOverlap"]?.doubleValue ?? .nan, decimals: 2)])
        }
        return table.rows.isEmpty ? nil : table
    }
}
