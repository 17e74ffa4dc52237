/// Markup text for the HTML report, built by appending. Every piece of report text passes through
/// `escape`, and every element is closed with its attributes quoted, so the page is also
/// well-formed XML (the tests parse it with an XML parser) and a hostile layer name cannot open
/// an element or end an attribute.
struct HTMLMarkup {
    private(set) var text = ""
    /// Style rules the content needs (e.g. which table columns hold numbers), for the page's
    /// `<style>`; the page writes its body first and its head last.
    var styleRules: [String] = []

    /// `&`, `<`, `>`, `"` and `'` as character references; characters XML 1.0 forbids (control
    /// characters other than tab and newlines, lone surrogates cannot occur in a `String`,
    /// U+FFFE and U+FFFF) become U+FFFD.
    static func escape(_ string: String) -> String {
        var result = ""
        result.reserveCapacity(string.utf8.count)
        for scalar in string.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            case "\t", "\n", "\r": result.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF || (0x7F..<0xA0).contains(scalar.value) {
                    result += "\u{FFFD}"
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
    }

    /// Appends markup that is already safe (built here, never report text).
    mutating func raw(_ markup: String) { text += markup }

    /// `<tag a="v"...>`, attribute values escaped.
    mutating func open(_ tag: String, _ attributes: [(String, String)] = []) {
        text += "<" + tag + Self.attributes(attributes) + ">"
    }

    mutating func close(_ tag: String) { text += "</" + tag + ">" }

    /// `<tag ...>text</tag>` with the text escaped.
    mutating func element(_ tag: String, _ attributes: [(String, String)] = [], _ content: String) {
        open(tag, attributes)
        text += Self.escape(content)
        close(tag)
    }

    /// `<tag .../>`: only for HTML void elements (meta, br) and SVG shapes, where both HTML and
    /// XML read the slash as "no content".
    mutating func empty(_ tag: String, _ attributes: [(String, String)] = []) {
        text += "<" + tag + Self.attributes(attributes) + "/>"
    }

    /// `<tag ...>` ... `</tag>` around what `body` appends.
    mutating func wrap(_ tag: String, _ attributes: [(String, String)] = [], _ body: (inout HTMLMarkup) -> Void) {
        open(tag, attributes)
        body(&self)
        close(tag)
    }

    static func attributes(_ attributes: [(String, String)]) -> String {
        var text = ""
        for (name, value) in attributes { text += " " + name + "=\"" + escape(value) + "\"" }
        return text
    }
}
