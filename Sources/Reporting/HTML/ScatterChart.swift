import Support

/// Estimator versus measured influence, log–log, one panel per estimator: each point an item of
/// the kind the agreement section compares, coloured by its latent class, with that section's
/// Spearman ρ in the title. A cheap criterion that predicted the measurement would put the points
/// on a rising band.
enum ScatterChart {
    /// Points drawn per panel at most: every latent item, then the others thinned by an even
    /// stride, so a large report stays a few megabytes.
    static let maxPoints = 1500
    static let latentClasses = ["none", "hiddenCritical", "hiddenWeak"]

    static func write(_ data: HTMLReportData, into markup: inout HTMLMarkup) {
        markup.wrap("section", [("id", "estimators")]) { markup in
            markup.element("h2", [], "Estimators versus measured influence")
            guard !data.estimators.isEmpty else {
                markup.element("p", [("class", "missing")], "Estimators: none in this report (profile with --estimators l1,l2,bn).")
                return
            }
            key(into: &markup)
            var thinned = false
            markup.wrap("div", [("class", "multiples")]) { markup in
                for estimator in data.estimators {
                    thinned = panel(estimator, data: data, into: &markup) || thinned
                }
            }
            var note = "Points coloured by latent class: grey none, red hidden-critical (the estimator would prune it, the measurement says it matters), blue hidden-weak (the estimator would keep it, the measurement says it is weak)."
            if let latent = data.report["agreement"]?["latent"]?["estimator"]?.stringValue {
                note += " Latent classes come from the \(latent) estimator in every panel."
            }
            note += " Values at or below an axis' floor (zeros) sit on its edge."
            if thinned { note += " Panels with more than \(maxPoints) items show every latent item and an even sample of the rest." }
            markup.element("p", [("class", "note")], note)
        }
    }

    /// One estimator's panel; returns whether points were thinned.
    static func panel(_ estimator: String, data: HTMLReportData, into markup: inout HTMLMarkup) -> Bool {
        let agreement = data.report["agreement"]?[estimator]
        let kind = agreement?["items"]?.stringValue ?? data.comparedKind
        let items = data.items(ofKind: kind).filter { $0["estimators"]?[estimator]?.doubleValue != nil }
        var title = "\(estimator) vs measured"
        if let rho = agreement?["spearman"] { title += " \u{2014} Spearman \u{3c1} = " + rho.cellText }
        title += " (\(items.count) \(HTMLReportData.plural(kind)))"
        let drawn = sample(items)
        let frame = ChartFrame(width: 336, height: 300, left: 56, right: 10, top: 12, bottom: 42)
        let scores = items.map { $0["estimators"]?[estimator]?.doubleValue ?? .nan }
        let measured = items.map { $0["influence"]?["mean"]?.doubleValue ?? .nan }
        let x = LogScale(values: scores, start: frame.plotLeft, end: frame.plotRight)
        let y = LogScale(values: measured, including: data.weakThreshold.map { [$0] } ?? [], start: frame.plotBottom, end: frame.plotTop)
        markup.wrap("figure", [("style", "width: \(HTMLNumber.pixel(frame.width))px")]) { markup in
            markup.element("figcaption", [], title)
            frame.open(&markup, chartClass: "scatter", title: title,
                       data: [("data-estimator", estimator), ("data-items", String(items.count)), ("data-points", String(drawn.count))])
            frame.xAxis(x, title: "\(estimator) score (log scale)", into: &markup)
            frame.yAxis(y, title: "measured \(data.metric) (log scale)", into: &markup)
            if let threshold = data.weakThreshold {
                let ty = HTMLNumber.pixel(y.position(threshold))
                markup.empty("line", [("class", "threshold"), ("x1", HTMLNumber.pixel(frame.plotLeft)), ("x2", HTMLNumber.pixel(frame.plotRight)), ("y1", ty), ("y2", ty)])
            }
            for latent in latentClasses + ["other"] {
                for item in drawn where latentClass(item) == latent {
                    let score = item["estimators"]?[estimator]?.doubleValue ?? .nan, mean = item["influence"]?["mean"]?.doubleValue ?? .nan
                    let attributes = [("class", "pt " + latent), ("cx", HTMLNumber.pixel(x.position(score))), ("cy", HTMLNumber.pixel(y.position(mean))),
                                      ("r", latent == "none" ? "2" : "2.6")]
                    // Only latent points carry a hover title: they are the ones worth looking up, and
                    // titles on thousands of others would double the page.
                    guard latent != "none" else { markup.empty("circle", attributes); continue }
                    markup.open("circle", attributes)
                    markup.element("title", [], (item["id"]?.stringValue ?? "?") + ": \(estimator) " + HTMLNumber.short(score) + ", measured " + HTMLNumber.short(mean))
                    markup.close("circle")
                }
            }
            markup.close("svg")
            let counts = latentClasses.dropFirst().map { latent in "\(items.filter { latentClass($0) == latent }.count) \(latent)" }
            var caption = "latent: " + counts.joined(separator: ", ")
            if drawn.count < items.count { caption += "; \(drawn.count) of \(items.count) points drawn" }
            if let kendall = agreement?["kendall"] { caption += "; Kendall \u{3c4} = " + kendall.cellText }
            if let overlap = agreement?["bottomKOverlap"]?.doubleValue { caption += "; weakest-k overlap " + HTMLNumber.percent(overlap) }
            markup.element("p", [("class", "panel-note")], caption)
        }
        return drawn.count < items.count
    }

    /// The colour key of the latent classes, above the panels.
    static func key(into markup: inout HTMLMarkup) {
        markup.wrap("div", [("class", "key")]) { markup in
            for (latent, label) in [("none", "none"), ("hiddenCritical", "hidden-critical"), ("hiddenWeak", "hidden-weak")] {
                markup.wrap("span", []) { markup in
                    markup.wrap("svg", [("width", "10"), ("height", "10")]) { markup in
                        markup.empty("circle", [("class", "pt " + latent), ("cx", "5"), ("cy", "5"), ("r", "4")])
                    }
                    markup.raw(HTMLMarkup.escape(label))
                }
            }
        }
    }

    /// The item's latent class, `other` for a value this page does not know.
    static func latentClass(_ item: JSONValue) -> String {
        let latent = item["latent"]?.stringValue ?? "none"
        return latentClasses.contains(latent) ? latent : "other"
    }

    /// At most `maxPoints` items: all latent ones first, then an even stride through the rest.
    static func sample(_ items: [JSONValue]) -> [JSONValue] {
        guard items.count > maxPoints else { return items }
        let latent = items.filter { latentClass($0) != "none" }
        let rest = items.filter { latentClass($0) == "none" }
        let room = max(0, maxPoints - latent.count)
        guard room > 0, !rest.isEmpty else { return Array(latent.prefix(maxPoints)) }
        let step = Double(rest.count) / Double(room)
        let chosen = (0..<min(room, rest.count)).map { rest[Int(Double($0) * step)] }
        return latent + chosen
    }
}
