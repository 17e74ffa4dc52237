import Foundation
import Influence
import Reporting
import Support

/// `weakspot rank REPORT`: rankings from a report, for people (table) and scripts (json, csv).
enum RankCommand: Command {
    static let spec = CommandSpec(
        name: "rank",
        abstract: "Read a report and print rankings.",
        discussion: """
        Ranks the report's items by measured influence (rank 1 = weakest; ties by layer, channel, \
        id as in the report), over all items (--by global) or within each layer (--by layer, \
        which adds each item's rank in its layer). The report is checked against the \
        weakspot.report/1 JSON Schema first. --summary prints the per-layer table, the latent \
        items, estimator agreement and rank stability as well.
        """,
        usage: "rank <report.json> [--top <k>] [--by global|layer] [--format table|json|csv] [<options>]",
        arguments: [ArgumentSpec(name: "REPORT", help: "A report written by 'weakspot profile' or 'weakspot merge'.")],
        options: [
            .value("top", "k", help: "Items to list (per layer with --by layer).", default: "20"),
            .value("by", "scope", help: "global or layer.", default: "global"),
            .value("kind", "kind", help: "channel, group, layer or tensor.", default: "the finest kind in the report"),
            .value("order", "order", help: "weakest or strongest first.", default: "weakest"),
            .value("format", "format", help: "table, json or csv.", default: "table"),
            .value("output", short: "o", "file", help: "Write to this file (atomically) instead of standard output."),
            .flag("summary", help: "With the table format: also the per-layer table, latent items, agreement and stability."),
        ] + JSONFileOptions.specs)

    struct Row {
        var item: JSONValue
        var rank: Int
        var layerRank: Int
    }

    static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
        let path = arguments.positionals[0]
        let top = try arguments.integer("top", default: 20, in: 1...10_000_000)
        let by = try arguments.choice("by", ["global", "layer"], default: "global")
        let order = try arguments.choice("order", ["weakest", "strongest"], default: "weakest")
        let format = try arguments.choice("format", ["table", "json", "csv"], default: "table")
        let report = try ReportFile.load(path, limits: JSONFileOptions.limits(arguments))
        let items = report["items"]?.arrayValue ?? []
        let present = ProfileReport.kindsPresent(items)
        var kind = present.first ?? "channel"
        if let text = arguments.value("kind") {
            let singular = text.hasSuffix("s") ? String(text.dropLast()) : text
            guard present.contains(singular) else {
                throw arguments.usageError("--kind: the report has \(present.joined(separator: ", ")) items, not '\(text)'")
            }
            kind = singular
        }

        let rows = ranked(items.filter { $0["kind"]?.stringValue == kind }, by: by, order: order, top: top,
                          layerOrder: (report["layers"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
        let text: String
        switch format {
        case "json": text = json(rows, path: path, by: by, kind: kind, order: order).rendered(oneLineFrom: 2)
        case "csv": text = csv(rows)
        default:
            var out = ""
            if arguments.flag("summary") { out += ReportSummary.text(report, top: min(top, 10)) + "\n" }
            out += "\(order) \(kind) items by measured influence (\(report["settings"]?["metric"]?.stringValue ?? "kl"))"
                + (by == "layer" ? ", per layer" : "") + ":\n"
            out += table(rows, perLayer: by == "layer").rendered()
            text = out
        }
        let output = try OutputFile.resolve(arguments, OutputOption(option: "output", defaultName: "rank.\(format == "table" ? "txt" : format)"), default: "-", console: console)!
        try OutputFile.write(text, to: output, console: console)
        return ExitCode.success
    }

    /// Rows in report-rank order (reversed for `strongest`), cut to `top` overall or per layer.
    static func ranked(_ items: [JSONValue], by: String, order: String, top: Int, layerOrder: [String]) -> [Row] {
        var sorted = items.sorted { ($0["rank"]?.intValue ?? 0) < ($1["rank"]?.intValue ?? 0) }
        var layerCounter: [String: Int] = [:]
        var rows = sorted.enumerated().map { i, item in
            let layer = item["layer"]?.stringValue ?? ""
            layerCounter[layer, default: 0] += 1
            return Row(item: item, rank: i + 1, layerRank: layerCounter[layer]!)
        }
        if order == "strongest" { rows.reverse(); sorted.reverse() }
        guard by == "layer" else { return Array(rows.prefix(top)) }
        let position = Dictionary(layerOrder.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let grouped = Dictionary(grouping: rows) { $0.item["layer"]?.stringValue ?? "" }
        return grouped.keys.sorted { (position[$0] ?? .max, $0) < (position[$1] ?? .max, $1) }.flatMap { Array(grouped[$0]!.prefix(top)) }
    }

    static func table(_ rows: [Row], perLayer: Bool) -> TextTable {
        var table = TextTable(headers: ["rank"] + (perLayer ? ["in layer"] : []) + ["id", "influence", "95% interval", "weak", "latent"],
                              alignments: [.right] + (perLayer ? [.right] : []) + [.left, .right, .left, .left, .left])
        for row in rows {
            let i = row.item["influence"]
            table.rows.append(["\(row.rank)"] + (perLayer ? ["\(row.layerRank)"] : []) + [
                row.item["id"]?.stringValue ?? "?", NumberText.scientific(i?["mean"]?.doubleValue ?? .nan),
                "[\(NumberText.scientific(i?["ciLow"]?.doubleValue ?? .nan)), \(NumberText.scientific(i?["ciHigh"]?.doubleValue ?? .nan))]",
                row.item["weak"]?.boolValue == true ? "yes" : "no", row.item["latent"]?.stringValue ?? "none",
            ])
        }
        return table
    }

    static let csvColumns = ["rank", "layer_rank", "id", "kind", "layer", "channel", "influence_mean", "influence_ci_low", "influence_ci_high", "weak", "latent"]

    static func csv(_ rows: [Row]) -> String {
        var lines = [csvColumns.joined(separator: ",")]
        for row in rows {
            let i = row.item["influence"]
            let fields: [JSONValue?] = [.int(row.rank), .int(row.layerRank), row.item["id"], row.item["kind"], row.item["layer"], row.item["channel"],
                                        i?["mean"], i?["ciLow"], i?["ciHigh"], row.item["weak"], row.item["latent"]]
            lines.append(fields.map(ReportCSV.field).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func json(_ rows: [Row], path: String, by: String, kind: String, order: String) -> JSONValue {
        .object([
            "schema": .string("weakspot.rank/1"), "report": .string(path), "by": .string(by), "kind": .string(kind), "order": .string(order),
            "rows": .array(rows.map { row in
                .object(["rank": .int(row.rank), "layerRank": .int(row.layerRank), "id": row.item["id"] ?? .null, "layer": row.item["layer"] ?? .null,
                         "channel": row.item["channel"] ?? .null, "influence": row.item["influence"] ?? .null, "weak": row.item["weak"] ?? .null,
                         "latent": row.item["latent"] ?? .null, "estimators": row.item["estimators"] ?? .object([:])])
            }),
        ])
    }
}
