/// An SVG chart's canvas: its size, the margins around the plot area, and the axes. Charts are
/// sized in SVG units and scale down with the page (CSS `max-width: 100%`).
struct ChartFrame {
    let width: Double
    let height: Double
    let left: Double
    let right: Double
    let top: Double
    let bottom: Double

    var plotLeft: Double { left }
    var plotRight: Double { width - right }
    var plotTop: Double { top }
    var plotBottom: Double { height - bottom }

    /// Opens `<svg>` with the chart's class, a `<title>` for screen readers and hover, and `data`
    /// attributes the tests and the browser check count.
    func open(_ markup: inout HTMLMarkup, chartClass: String, title: String, data: [(String, String)] = []) {
        markup.open("svg", [("class", "chart " + chartClass), ("viewBox", "0 0 \(HTMLNumber.pixel(width)) \(HTMLNumber.pixel(height))"),
                            ("width", HTMLNumber.pixel(width)), ("height", HTMLNumber.pixel(height)), ("role", "img")] + data)
        markup.element("title", [], title)
    }

    /// Ticks, grid lines and labels under the plot, and the axis title below them.
    func xAxis(_ scale: some ChartScale, title: String, into markup: inout HTMLMarkup) {
        markup.open("g", [("class", "axis x")])
        for tick in scale.ticks {
            let x = HTMLNumber.pixel(scale.position(tick.value))
            markup.empty("line", [("class", "grid"), ("x1", x), ("x2", x), ("y1", HTMLNumber.pixel(plotTop)), ("y2", HTMLNumber.pixel(plotBottom))])
            markup.element("text", [("x", x), ("y", HTMLNumber.pixel(plotBottom + 14)), ("text-anchor", "middle")], tick.label)
        }
        markup.empty("line", [("class", "frame"), ("x1", HTMLNumber.pixel(plotLeft)), ("x2", HTMLNumber.pixel(plotRight)),
                              ("y1", HTMLNumber.pixel(plotBottom)), ("y2", HTMLNumber.pixel(plotBottom))])
        markup.element("text", [("class", "axis-title"), ("x", HTMLNumber.pixel((plotLeft + plotRight) / 2)), ("y", HTMLNumber.pixel(plotBottom + 32)),
                                ("text-anchor", "middle")], title)
        markup.close("g")
    }

    /// Ticks, grid lines and labels left of the plot, and the axis title turned upright.
    func yAxis(_ scale: some ChartScale, title: String, into markup: inout HTMLMarkup) {
        markup.open("g", [("class", "axis y")])
        for tick in scale.ticks {
            let y = HTMLNumber.pixel(scale.position(tick.value))
            markup.empty("line", [("class", "grid"), ("x1", HTMLNumber.pixel(plotLeft)), ("x2", HTMLNumber.pixel(plotRight)), ("y1", y), ("y2", y)])
            markup.element("text", [("x", HTMLNumber.pixel(plotLeft - 5)), ("y", HTMLNumber.pixel(scale.position(tick.value) + 4)), ("text-anchor", "end")], tick.label)
        }
        markup.empty("line", [("class", "frame"), ("x1", HTMLNumber.pixel(plotLeft)), ("x2", HTMLNumber.pixel(plotLeft)),
                              ("y1", HTMLNumber.pixel(plotTop)), ("y2", HTMLNumber.pixel(plotBottom))])
        let middle = HTMLNumber.pixel((plotTop + plotBottom) / 2)
        markup.element("text", [("class", "axis-title"), ("x", "14"), ("y", middle), ("text-anchor", "middle"),
                                ("transform", "rotate(-90 14 \(middle))")], title)
        markup.close("g")
    }
}
