import Influence
import Support

/// `weakspot rank`'s rankings of a typed report, for people (table) and scripts (json, csv).
/// Ranks follow the report's (rank 1 = weakest; ties as the report broke them).
public enum Ranking {
    public struct Row: Sendable {
        public var item: ReportItem
        /// Position among the ranked items of the kind (1 = weakest).
        public var rank: Int
        /// Position within the item's layer.
        public var layerRank: Int
    }

    /// The whole output of `rank` for `report` (read from `path`); a `--kind` the report does not
    /// hold throws the usage message.
    public static func text(_ report: Report, path: String, request: RankRequest) throws(OptionError) -> String {
        let kind = try request.kind.map { (text: String) throws(OptionError) in try report.kind(named: text) } ?? report.kindsPresent.first ?? .channel
        let rows = ranked(report.ranked(kind), by: request.by, order: request.order, top: request.top, layerOrder: report.layerNames)
        switch request.format {
        case .json: return json(rows, path: path, request: request, kind: kind).rendered(oneLineFrom: 2)
        case .csv: return csv(rows)
        case .table:
            var out = ""
            if request.summary { out += ReportSummary.text(report, top: min(request.top, 10)) + "\n" }
            out += "\(request.order.rawValue) \(kind.rawValue) items by measured influence (\(report.metric))"
                + (request.by == .layer ? ", per layer" : "") + ":\n"
            return out + table(rows, perLayer: request.by == .layer).rendered()
        }
    }

    /// Rows of `items` (in rank order), reversed for `strongest`, cut to `top` overall or per
    /// layer (layers in `layerOrder`, unknown ones after, by name).
    public static func ranked(_ items: [ReportItem], by: RankRequest.Scope, order: RankRequest.Order, top: Int, layerOrder: [String]) -> [Row] {
        var layerCounter: [String: Int] = [:]
        var rows = items.enumerated().map { i, item in
            layerCounter[item.layer, default: 0] += 1
            return Row(item: item, rank: i + 1, layerRank: layerCounter[item.layer]!)
        }
        if order == .strongest { rows.reverse() }
        guard by == .layer else { return Array(rows.prefix(top)) }
        let position = Dictionary(layerOrder.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let grouped = Dictionary(grouping: rows) { $0.item.layer }
        return grouped.keys.sorted { (position[$0] ?? .max, $0) < (position[$1] ?? .max, $1) }.flatMap { Array(grouped[$0]!.prefix(top)) }
    }

    static func table(_ rows: [Row], perLayer: Bool) -> TextTable {
        var table = TextTable(headers: ["rank"] + (perLayer ? ["in layer"] : []) + ["id", "influence", "95% interval", "weak", "latent"],
                              alignments: [.right] + (perLayer ? [.right] : []) + [.left, .right, .left, .left, .left])
        // A mean or bound that was not finite is written as null and shown as nan.
        func shown(_ value: Double?) -> String { NumberText.scientific(value ?? .nan) }
        for row in rows {
            let i = row.item.influence
            table.rows.append(["\(row.rank)"] + (perLayer ? ["\(row.layerRank)"] : []) + [
                row.item.id, shown(i?.mean), "[\(shown(i?.ciLow)), \(shown(i?.ciHigh))]",
                row.item.weak == true ? "yes" : "no", row.item.json["latent"]?.stringValue ?? "none",
            ])
        }
        return table
    }

    static let csvColumns = ["rank", "layer_rank", "id", "kind", "layer", "channel", "influence_mean", "influence_ci_low", "influence_ci_high", "weak", "latent"]

    static func csv(_ rows: [Row]) -> String {
        var lines = [csvColumns.joined(separator: ",")]
        for row in rows {
            let item = row.item.json, i = item["influence"]
            let fields: [JSONValue?] = [.int(row.rank), .int(row.layerRank), item["id"], item["kind"], item["layer"], item["channel"],
                                        i?["mean"], i?["ciLow"], i?["ciHigh"], item["weak"], item["latent"]]
            lines.append(fields.map(ReportCSV.field).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func json(_ rows: [Row], path: String, request: RankRequest, kind: ItemKind) -> JSONValue {
        .object([
            "schema": .string("weakspot.rank/1"), "report": .string(path), "by": .string(request.by.rawValue), "kind": .string(kind.rawValue),
            "order": .string(request.order.rawValue),
            "rows": .array(rows.map { row in
                let item = row.item.json
                return .object(["rank": .int(row.rank), "layerRank": .int(row.layerRank), "id": item["id"] ?? .null, "layer": item["layer"] ?? .null,
                                "channel": item["channel"] ?? .null, "influence": item["influence"] ?? .null, "weak": item["weak"] ?? .null,
                                "latent": item["latent"] ?? .null, "estimators": item["estimators"] ?? .object([:])])
            }),
        ])
    }
}
