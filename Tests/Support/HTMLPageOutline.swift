import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// An HTML page read with Foundation's XML parser, which only succeeds on well-formed markup:
/// every element with its attributes, the chart (top-level `<svg class="chart …">`) it sits in,
/// and the page's text. Used to check the HTML report independently of the code that wrote it.
public final class HTMLPageOutline: NSObject, XMLParserDelegate {
    public struct Element {
        public var name: String
        public var attributes: [String: String]
        /// Index into `charts` of the chart this element is inside (nil outside charts).
        public var chart: Int?

        public var classes: [String] { (attributes["class"] ?? "").split(separator: " ").map(String.init) }
        public func hasClass(_ name: String) -> Bool { classes.contains(name) }
    }

    public private(set) var elements: [Element] = []
    /// The attributes of each chart `<svg>`, in page order.
    public private(set) var charts: [[String: String]] = []
    /// All text content, decoded (so an escaped `&lt;script&gt;` reads `<script>`).
    public private(set) var text = ""
    private var chartStack: [Int?] = []

    /// Throws when the page is not well-formed XML, naming the line and column.
    public init(_ page: String) throws {
        super.init()
        let parser = XMLParser(data: Data(page.utf8))
        parser.delegate = self
        guard parser.parse() else {
            throw NSError(domain: "HTMLPageOutline", code: 1, userInfo: [NSLocalizedDescriptionKey:
                "not well-formed at line \(parser.lineNumber), column \(parser.columnNumber): \(parser.parserError.map { "\($0)" } ?? "?")"])
        }
    }

    public func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                       attributes: [String: String] = [:]) {
        var chart = chartStack.last ?? nil
        if name == "svg", chart == nil, (attributes["class"] ?? "").split(separator: " ").contains("chart") {
            charts.append(attributes)
            chart = charts.count - 1
        }
        chartStack.append(chart)
        elements.append(Element(name: name, attributes: attributes, chart: chart))
    }

    public func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        chartStack.removeLast()
    }

    public func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    public func parser(_ parser: XMLParser, foundCDATA block: Data) { text += String(decoding: block, as: UTF8.self) }

    /// Charts whose class list contains `chartClass`, with their index.
    public func charts(_ chartClass: String) -> [(index: Int, attributes: [String: String])] {
        charts.enumerated().filter { ($0.element["class"] ?? "").split(separator: " ").contains(Substring(chartClass)) }.map { ($0.offset, $0.element) }
    }

    /// Elements named `name` (and with class `className`, when given) inside chart `chart`.
    public func marks(_ name: String, className: String? = nil, inChart chart: Int) -> [Element] {
        elements.filter { $0.chart == chart && $0.name == name && (className.map($0.hasClass) ?? true) }
    }
}
