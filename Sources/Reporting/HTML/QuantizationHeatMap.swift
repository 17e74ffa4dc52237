import Foundation
import Support

/// The layer × bits table of a `--perturb quantize:…` sweep as a heat map: one row per layer in
/// graph order, one column per bit width, each cell the mean KL (and top-1 change) at that width,
/// shaded on a log scale from white (no damage) to dark red (the sweep's worst), so the layers
/// that cannot go below 8 bits and those that take 3 stand out at a glance.
enum QuantizationHeatMap {
    static func write(_ data: HTMLReportData, into markup: inout HTMLMarkup) {
        let rows = self.rows(data)
        guard !rows.isEmpty else { return }
        let widths = Array(Set(rows.flatMap { $0.points.keys })).sorted(by: >)
        let values = rows.flatMap { $0.points.values.map(\.kl) }.filter { $0 > 0 }
        let low = values.min() ?? 1e-6, high = values.max() ?? 1
        markup.wrap("section", [("id", "quantization")]) { markup in
            markup.element("h2", [], "Quantization sensitivity")
            markup.wrap("table", [("class", "heatmap")]) { markup in
                markup.wrap("thead", []) { markup in
                    markup.wrap("tr", []) { markup in
                        markup.element("th", [], "layer")
                        for b in widths { markup.element("th", [], "\(b) bits") }
                    }
                }
                markup.wrap("tbody", []) { markup in
                    for row in rows {
                        markup.wrap("tr", []) { markup in
                            markup.element("td", [], row.layer)
                            for b in widths {
                                guard let p = row.points[b] else { markup.element("td", [("class", "missing")], "-"); continue }
                                let shade = self.shade(p.kl, low: low, high: high)
                                markup.element("td", [("style", "background: \(shade.background); color: \(shade.text)"),
                                                      ("title", "kl \(HTMLNumber.short(p.kl)), top-1 changed \(HTMLNumber.percent(p.top1))")],
                                               HTMLNumber.short(p.kl))
                            }
                        }
                    }
                }
            }
            markup.element("p", [("class", "note")], "Each cell: the mean KL divergence of the outputs with that layer's weights rounded to the column's bits (symmetric integers, \(data.report["settings"]?["quantizeGranularity"]?.stringValue ?? "channel") scales) and every other layer in float; darker is worse, on a log scale. Hover a cell for the share of inputs whose top-1 class changed. `weakspot plan --quantize` chooses bits per layer from this table.")
        }
    }

    /// Each swept layer's points by bits, in graph order.
    static func rows(_ data: HTMLReportData) -> [(layer: String, points: [Int: (kl: Double, top1: Double)])] {
        var byLayer: [String: [Int: (kl: Double, top1: Double)]] = [:]
        for item in data.items where item["kind"]?.stringValue == "layer" {
            guard let layer = item["layer"]?.stringValue, let sweep = item["sweep"]?.arrayValue else { continue }
            var points: [Int: (kl: Double, top1: Double)] = [:]
            for p in sweep {
                if let b = p["bits"]?.intValue, let kl = p["kl"]?.doubleValue { points[b] = (kl, p["top1"]?.doubleValue ?? 0) }
            }
            if !points.isEmpty { byLayer[layer] = points }
        }
        return data.layerOrder.compactMap { name in byLayer[name].map { (name, $0) } }
    }

    /// White to dark red by where `value` sits between `low` and `high` on a log scale.
    static func shade(_ value: Double, low: Double, high: Double) -> (background: String, text: String) {
        guard value > 0, high > low else { return ("#ffffff", "#24292f") }
        let t = min(max((log(value) - log(low)) / (log(high) - log(low)), 0), 1)
        let (g, b) = (Int((1 - t) * 245 + t * 20), Int((1 - t) * 240 + t * 30))
        let r = Int((1 - t) * 255 + t * 150)
        return (String(format: "#%02x%02x%02x", r, g, b), t > 0.55 ? "#ffffff" : "#24292f")
    }
}
