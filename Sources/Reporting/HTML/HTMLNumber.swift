import Foundation
import Support

/// How the HTML report prints numbers: short and fixed-width enough to scan, with the exact value
/// left to report.json. A missing or non-finite value (JSON `null`) prints as an en dash.
enum HTMLNumber {
    static let missing = "\u{2013}"

    /// Four significant digits in plain notation between 0.001 and 10⁵, else `1.23e-05`.
    static func short(_ value: Double?) -> String {
        guard let value, value.isFinite else { return missing }
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 1e-3 && magnitude < 1e5 { return trimmed(String(format: "%.4g", value)) }
        return NumberText.scientific(value)
    }

    /// A count with thousands separators: `4,652,008`.
    static func grouped(_ value: Int?) -> String {
        guard let value else { return missing }
        return NumberText.grouped(value)
    }

    /// A fraction as a percentage with one decimal: `12.5%`.
    static func percent(_ value: Double?) -> String {
        guard let value, value.isFinite else { return missing }
        return String(format: "%.1f%%", value * 100)
    }

    /// A coordinate in an SVG: one decimal, no trailing zeros.
    static func pixel(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let rounded = (value * 10).rounded() / 10
        if rounded == rounded.rounded() { return String(Int(rounded)) }
        return String(format: "%.1f", rounded)
    }

    private static func trimmed(_ text: String) -> String {
        guard text.contains("."), !text.contains("e") else { return text }
        var result = Substring(text)
        while result.hasSuffix("0") { result = result.dropLast() }
        if result.hasSuffix(".") { result = result.dropLast() }
        return String(result)
    }
}
