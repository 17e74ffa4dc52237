import Support

/// Distiller-style sensitivity curves: for each layer swept with `--perturb prune:…`, a metric
/// versus the fraction of filters pruned, one line per layer — small multiples for kl, mse and
/// top1, which need no script to switch between.
enum SensitivityChart {
    static let metrics = ["kl", "mse", "top1"]
    /// Line colours, cycled; the dash pattern changes on each cycle so more than ten layers stay
    /// apart.
    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    static let dashes = ["", "6 3", "2 2", "8 3 2 3"]

    static func write(_ data: HTMLReportData, into markup: inout HTMLMarkup) {
        markup.wrap("section", [("id", "sensitivity")]) { markup in
            markup.element("h2", [], "Sensitivity curves")
            let curves = self.curves(data)
            guard !curves.isEmpty else {
                // A bits sweep is a sweep too: its heat map follows (QuantizationHeatMap).
                if data.report["settings"]?["perturb"]?.stringValue?.hasPrefix("quantize:") == true { return }
                markup.element("p", [("class", "missing")], "Sensitivity curves: no layer sweeps in this report (profile with --items layers --perturb prune:0.1,0.3,0.5…).")
                return
            }
            markup.wrap("div", [("class", "multiples")]) { markup in
                for metric in metrics { panel(metric, curves: curves, into: &markup) }
            }
            markup.wrap("ul", [("class", "legend")]) { markup in
                for (index, curve) in curves.enumerated() {
                    markup.wrap("li", []) { markup in
                        markup.wrap("svg", [("width", "26"), ("height", "10"), ("class", "swatch")]) { markup in
                            markup.empty("line", style(index) + [("x1", "0"), ("x2", "26"), ("y1", "5"), ("y2", "5")])
                        }
                        markup.element("span", [], curve.layer)
                    }
                }
            }
            markup.element("p", [("class", "note")], "Each line: one layer with the given fraction of its filters zeroed (smallest L1 norm first, or the smallest weights with --prune-mode unstructured); the metric is the mean over inputs.")
        }
    }

    /// Each swept layer's points in graph order: the layer's `sensitivity`, else its layer item's `sweep`.
    static func curves(_ data: HTMLReportData) -> [(layer: String, points: [JSONValue])] {
        var sweeps: [String: [JSONValue]] = [:]
        for item in data.items {
            if let layer = item["layer"]?.stringValue, let sweep = item["sweep"]?.arrayValue, !sweep.isEmpty, sweeps[layer] == nil { sweeps[layer] = sweep }
        }
        for layer in data.report["layers"]?.arrayValue ?? [] {
            if let name = layer["name"]?.stringValue, let curve = layer["sensitivity"]?.arrayValue, !curve.isEmpty { sweeps[name] = curve }
        }
        return data.layerOrder.compactMap { name in
            sweeps[name].map { points in
                (name, points.filter { $0["sparsity"]?.doubleValue != nil }.sorted { ($0["sparsity"]?.doubleValue ?? 0) < ($1["sparsity"]?.doubleValue ?? 0) })
            }
        }.filter { !$0.points.isEmpty }
    }

    static func style(_ index: Int) -> [(String, String)] {
        var attributes = [("stroke", palette[index % palette.count])]
        let dash = dashes[(index / palette.count) % dashes.count]
        if !dash.isEmpty { attributes.append(("stroke-dasharray", dash)) }
        return attributes
    }

    static func panel(_ metric: String, curves: [(layer: String, points: [JSONValue])], into markup: inout HTMLMarkup) {
        let frame = ChartFrame(width: 320, height: 250, left: 58, right: 12, top: 26, bottom: 42)
        let sparsities = curves.flatMap { $0.points.compactMap { $0["sparsity"]?.doubleValue } }
        let x = LinearScale(values: sparsities + [0], start: frame.plotLeft, end: frame.plotRight)
        let y = LinearScale(values: curves.flatMap { $0.points.compactMap { $0[metric]?.doubleValue } }, start: frame.plotBottom, end: frame.plotTop)
        markup.wrap("figure", [("style", "width: \(HTMLNumber.pixel(frame.width))px")]) { markup in
            frame.open(&markup, chartClass: "sensitivity", title: "\(metric) versus sparsity, one line per layer",
                       data: [("data-metric", metric), ("data-curves", String(curves.count))])
            markup.element("text", [("class", "panel-title"), ("x", HTMLNumber.pixel(frame.plotLeft)), ("y", "16")], metric)
            frame.xAxis(x, title: "fraction of filters pruned", into: &markup)
            frame.yAxis(y, title: metric, into: &markup)
            for (index, curve) in curves.enumerated() {
                let points = curve.points.compactMap { point -> String? in
                    guard let s = point["sparsity"]?.doubleValue, let v = point[metric]?.doubleValue, v.isFinite else { return nil }
                    return HTMLNumber.pixel(x.position(s)) + "," + HTMLNumber.pixel(y.position(v))
                }
                guard !points.isEmpty else { continue }
                markup.open("polyline", [("class", "curve"), ("data-layer", curve.layer), ("points", points.joined(separator: " "))] + style(index))
                markup.element("title", [], curve.layer)
                markup.close("polyline")
            }
            markup.close("svg")
        }
    }
}
