import Foundation
import Support

/// `--csv FILE`: one row per item with stable snake_case columns (docs/report.md). Numbers are
/// written exactly as in report.json, so the CSV round-trips to the same values.
public enum ReportCSV {
    public static let columns = [
        "id", "kind", "layer", "output", "channel", "group", "params", "macs",
        "influence_mean", "influence_std", "influence_ci_low", "influence_ci_high", "influence_n",
        "kl", "mse", "top1", "acc", "loss", "rank", "weak", "latent",
        "l1", "l2", "bn", "apoz", "meanact", "random", "taylor", "worst_class", "worst_class_acc_drop",
    ]

    public static func text(_ report: JSONValue) -> String {
        var lines = [columns.joined(separator: ",")]
        for item in report["items"]?.arrayValue ?? [] {
            let influence = item["influence"], metrics = item["metrics"]
            let row: [JSONValue?] = [
                item["id"], item["kind"], item["layer"], item["output"], item["channel"], item["group"], item["params"], item["macs"],
                influence?["mean"], influence?["std"], influence?["ciLow"], influence?["ciHigh"], influence?["n"],
                metrics?["kl"], metrics?["mse"], metrics?["top1"], metrics?["acc"], metrics?["loss"],
                item["rank"], item["weak"], item["latent"],
            ] + ["l1", "l2", "bn", "apoz", "meanact", "random", "taylor"].map { item["estimators"]?[$0] }
              + [item["classDamage"]?["class"], item["classDamage"]?["accDrop"]]
            lines.append(row.map(field).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func field(_ value: JSONValue?) -> String {
        guard let value else { return "" }
        switch value {
        case .null: return ""
        case .string(let s):
            if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) { return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
            return s
        default:
            return value.rendered(pretty: false)
        }
    }
}
