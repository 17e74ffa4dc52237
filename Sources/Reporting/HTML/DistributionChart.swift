import Support

/// Per-layer influence distributions: one row per layer in graph order, a box plot (quartiles,
/// median, whiskers to the extremes) of its items' `influence.mean` on a log axis over faint
/// dots of the items themselves, and the weak threshold as a vertical line. Zeros cannot sit on
/// a log axis; they are drawn at the left edge and counted in the row's note.
enum DistributionChart {
    /// Dots drawn per layer at most; more items are thinned by an even stride (the box still
    /// uses every item).
    static let maxDotsPerLayer = 300

    static func write(_ data: HTMLReportData, into markup: inout HTMLMarkup) {
        markup.wrap("section", [("id", "distributions")]) { markup in
            markup.element("h2", [], "Influence per layer")
            let rows = data.itemsByLayer(kind: data.comparedKind)
            guard !rows.isEmpty else {
                markup.element("p", [("class", "missing")], "Per-layer influence: no measured items in this report.")
                return
            }
            let values = rows.map { row in row.items.map { $0["influence"]?["mean"]?.doubleValue ?? .nan } }
            let rowHeight = 26.0
            let frame = ChartFrame(width: 980, height: 60 + rowHeight * Double(rows.count), left: 300, right: 190, top: 22, bottom: 38)
            let scale = LogScale(values: values.flatMap { $0 }, including: data.weakThreshold.map { [$0] } ?? [],
                                 start: frame.plotLeft, end: frame.plotRight)
            var clampedTotal = 0, thinned = false
            frame.open(&markup, chartClass: "distribution", title: "Influence (\(data.metric)) of each \(data.comparedKind ?? "item") per layer, log axis",
                       data: [("data-rows", String(rows.count))])
            frame.xAxis(scale, title: "influence.mean (\(data.metric), log scale)", into: &markup)
            for (index, row) in rows.enumerated() {
                let centre = frame.plotTop + rowHeight * (Double(index) + 0.5)
                let stats = writeRow(row.layer, values: values[index], items: row.items, centre: centre, height: rowHeight,
                                     scale: scale, frame: frame, into: &markup)
                clampedTotal += stats.clamped
                thinned = thinned || stats.thinned
            }
            if let threshold = data.weakThreshold {
                let x = HTMLNumber.pixel(scale.position(threshold))
                markup.empty("line", [("class", "threshold"), ("x1", x), ("x2", x), ("y1", HTMLNumber.pixel(frame.plotTop - 6)), ("y2", HTMLNumber.pixel(frame.plotBottom))])
                markup.element("text", [("class", "threshold-label"), ("x", x), ("y", HTMLNumber.pixel(frame.plotTop - 9)), ("text-anchor", "middle")],
                               "weak threshold \(HTMLNumber.short(threshold))")
            }
            markup.close("svg")
            var note = data.comparedKind == "layer"
                ? "Each row: one layer measured as a whole (for a sweep, the metric at the largest sparsity), in graph order."
                : "Each row: the \(HTMLReportData.plural(data.comparedKind)) of one layer, in graph order. Box = quartiles, line = median, whiskers = smallest and largest value; dots = the items."
            if clampedTotal > 0 { note += " \(clampedTotal) values at or below \(HTMLNumber.short(scale.floor)) (mostly exact zeros) are drawn at the left edge." }
            if thinned { note += " Dots are thinned to \(maxDotsPerLayer) per layer; the boxes use every item." }
            markup.element("p", [("class", "note")], note)
        }
    }

    /// One layer's row; returns how many values were clamped to the floor and whether dots were thinned.
    static func writeRow(_ layer: String, values: [Double], items: [JSONValue], centre: Double, height: Double, scale: LogScale,
                         frame: ChartFrame, into markup: inout HTMLMarkup) -> (clamped: Int, thinned: Bool) {
        let clamped = values.filter { scale.isClamped($0) }.count
        let weak = items.filter { $0["weak"]?.boolValue == true }.count
        markup.open("g", [("class", "layer-row"), ("data-layer", layer), ("data-items", String(values.count))])
        markup.element("title", [], "\(layer): \(values.count) items, \(weak) weak, \(clamped) at or below \(HTMLNumber.short(scale.floor))")
        markup.element("text", [("class", "row-label"), ("x", HTMLNumber.pixel(frame.plotLeft - 8)), ("y", HTMLNumber.pixel(centre + 4)), ("text-anchor", "end")],
                       shortened(layer, to: 44))
        let stride = max(1, (values.count + maxDotsPerLayer - 1) / maxDotsPerLayer)
        for i in Swift.stride(from: 0, to: values.count, by: stride) {
            let jitter = (Double((i &* 2654435761) % 1000) / 1000 - 0.5) * height * 0.6
            markup.empty("circle", [("class", "dot"), ("cx", HTMLNumber.pixel(scale.position(values[i]))), ("cy", HTMLNumber.pixel(centre + jitter)), ("r", "1.6")])
        }
        let positions = values.map { scale.position($0) }.sorted()
        if let low = positions.first, let high = positions.last {
            let (q1, median, q3) = (quantile(positions, 0.25), quantile(positions, 0.5), quantile(positions, 0.75))
            let y = HTMLNumber.pixel(centre)
            markup.empty("line", [("class", "whisker"), ("x1", HTMLNumber.pixel(low)), ("x2", HTMLNumber.pixel(high)), ("y1", y), ("y2", y)])
            markup.empty("rect", [("class", "box"), ("x", HTMLNumber.pixel(q1)), ("y", HTMLNumber.pixel(centre - height * 0.28)),
                                  ("width", HTMLNumber.pixel(max(q3 - q1, 1))), ("height", HTMLNumber.pixel(height * 0.56))])
            markup.empty("line", [("class", "median"), ("x1", HTMLNumber.pixel(median)), ("x2", HTMLNumber.pixel(median)),
                                  ("y1", HTMLNumber.pixel(centre - height * 0.28)), ("y2", HTMLNumber.pixel(centre + height * 0.28))])
        }
        markup.element("text", [("class", "row-note"), ("x", HTMLNumber.pixel(frame.plotRight + 8)), ("y", HTMLNumber.pixel(centre + 4))],
                       "n \(values.count) \u{b7} weak \(weak)" + (clamped > 0 ? " \u{b7} \u{2264}floor \(clamped)" : ""))
        markup.close("g")
        return (clamped, stride > 1)
    }

    /// The q-quantile of sorted values, interpolating between neighbours.
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard sorted.count > 1 else { return sorted.first ?? 0 }
        let position = q * Double(sorted.count - 1)
        let i = Int(position.rounded(.down)), fraction = position - Double(i)
        return i + 1 < sorted.count ? sorted[i] + (sorted[i + 1] - sorted[i]) * fraction : sorted[i]
    }

    /// The end of a long name, with an ellipsis: layer names share their prefixes, so the end is
    /// what tells them apart. The full name is in the row's title.
    static func shortened(_ name: String, to length: Int) -> String {
        name.count <= length ? name : "\u{2026}" + name.suffix(length - 1)
    }
}
