import Influence
import Support

/// The terminal summary of a report, shared by `profile` and `rank`: per-layer table, weakest
/// items, latent items, estimator agreement, rank stability.
public enum ReportSummary {
    public static func text(_ report: JSONValue, top: Int) -> String {
        var out = ""
        for warning in report["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? [] { out += "warning: \(warning)\n" }
        // The finest kind present (channels, else groups…): ranks run within a kind.
        let all = report["items"]?.arrayValue ?? []
        let kind = ProfileReport.finestKind(all)
        let items = all.filter { $0["kind"]?.stringValue == kind }
        let metric = report["settings"]?["metric"]?.stringValue ?? "kl"
        out += "per layer (\(kind) items, influence = \(metric)):\n" + layerTable(report, items: items).rendered()
        let ranked = items.sorted { ($0["rank"]?.intValue ?? 0) < ($1["rank"]?.intValue ?? 0) }
        out += "\nweakest \(min(top, ranked.count)) \(kind) items:\n" + itemTable(Array(ranked.prefix(top))).rendered()
        let latent = ranked.filter { ($0["latent"]?.stringValue ?? "none") != "none" }
        if !latent.isEmpty {
            let critical = latent.filter { $0["latent"]?.stringValue == "hiddenCritical" }.sorted { mean($0) > mean($1) }
            let estimator = report["agreement"]?["latent"]?["estimator"]?.stringValue ?? "the estimator"
            out += "\nlatent: \(critical.count) hidden-critical (\(estimator) would prune them; measured among the strongest), "
                + "\(latent.count - critical.count) hidden-weak; strongest hidden-critical:\n"
            out += itemTable(Array(critical.prefix(top))).rendered()
        }
        if let agreement = agreementTable(report) { out += "\nestimator agreement with the measurement:\n" + agreement.rendered() }
        if let recommended = report["agreement"]?["recommended"]?["overall"]?["estimator"]?.stringValue {
            out += "recommended estimator (cheapest with Spearman ≥ \(report["agreement"]?["recommended"]?["threshold"]?.doubleValue ?? 0.7)): \(recommended)\n"
        }
        if let stability = report["stability"], let tau = stability["halvesKendall"]?.doubleValue {
            out += "rank stability: Kendall τ between halves of the inputs \(NumberText.fixed(tau, decimals: 2))"
            if let b = stability["bootstrapKendall"], let m = b["mean"]?.doubleValue {
                out += ", bootstrap resamples vs all \(NumberText.fixed(m, decimals: 2)) (min \(NumberText.fixed(b["min"]?.doubleValue ?? .nan, decimals: 2)))"
            }
            out += "\n"
            if let estimate = stability["estimate"], let n = estimate["measuredInputs"]?.intValue {
                let counts = StabilityEstimateText.targets.compactMap { t in estimate["inputsForHalvesKendall"]?[t].map { (t, $0.intValue) } }
                let said = counts.map { t, c in "τ \(t): " + (c.map { n >= $0 ? "reached" : "~\(NumberText.grouped($0)) inputs" } ?? "out of reach") }
                if !said.isEmpty { out += "  stable enough? measured on \(n) inputs; estimated from the bootstrap: " + said.joined(separator: ", ") + "\n" }
            }
        }
        return out
    }

    static func mean(_ item: JSONValue) -> Double { item["influence"]?["mean"]?.doubleValue ?? 0 }

    static func layerTable(_ report: JSONValue, items: [JSONValue]) -> TextTable {
        var table = TextTable(headers: ["layer", "items", "weak", "median", "max", "MACs"], alignments: [.left, .right, .right, .right, .right, .right])
        let byLayer = Dictionary(grouping: items) { $0["layer"]?.stringValue ?? "" }
        for layer in report["layers"]?.arrayValue ?? [] {
            guard let name = layer["name"]?.stringValue, let items = byLayer[name], !items.isEmpty else { continue }
            let means = items.map(mean).sorted()
            table.rows.append([name, "\(items.count)", "\(items.filter { $0["weak"]?.boolValue == true }.count)",
                               NumberText.scientific(means[means.count / 2]), NumberText.scientific(means.last!),
                               NumberText.grouped(layer["macs"]?.intValue ?? 0)])
        }
        return table
    }

    static func itemTable(_ items: [JSONValue]) -> TextTable {
        var table = TextTable(headers: ["rank", "id", "influence", "95% interval", "weak", "latent"], alignments: [.right, .left, .right, .left, .left, .left])
        for item in items {
            let i = item["influence"]
            table.rows.append(["\(item["rank"]?.intValue ?? 0)", item["id"]?.stringValue ?? "?", NumberText.scientific(mean(item)),
                               "[\(NumberText.scientific(i?["ciLow"]?.doubleValue ?? .nan)), \(NumberText.scientific(i?["ciHigh"]?.doubleValue ?? .nan))]",
                               item["weak"]?.boolValue == true ? "yes" : "no", item["latent"]?.stringValue ?? "none"])
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

/// The targets `stability.estimate` gives counts for, as their JSON keys.
enum StabilityEstimateText {
    static let targets = ["0.8", "0.9", "0.95"]
}

