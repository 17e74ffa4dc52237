import Foundation

/// A plain-text table with aligned columns for terminal output: headers, a rule, rows, and an
/// optional footer row after a second rule. Numeric columns are right-aligned.
public struct TextTable {
    public enum Alignment { case left, right }

    public var headers: [String]
    public var alignments: [Alignment]
    public var rows: [[String]] = []
    public var footer: [String]? = nil

    public init(headers: [String], alignments: [Alignment], rows: [[String]] = [], footer: [String]? = nil) {
        self.headers = headers
        self.alignments = alignments
        self.rows = rows
        self.footer = footer
    }

    public func rendered() -> String {
        let all = [headers] + rows + (footer.map { [$0] } ?? [])
        var widths = [Int](repeating: 0, count: headers.count)
        for row in all {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for (i, width) in widths.enumerated() {
                let cell = i < cells.count ? cells[i] : ""
                let pad = String(repeating: " ", count: width - cell.count)
                parts.append(alignments.indices.contains(i) && alignments[i] == .right ? pad + cell : cell + pad)
            }
            var text = parts.joined(separator: "  ")
            while text.hasSuffix(" ") { text.removeLast() }
            return text
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        var lines = [line(headers), rule]
        lines += rows.map(line)
        if let footer {
            lines.append(rule)
            lines.append(line(footer))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Number formats shared by the table outputs.
public enum NumberText {
    /// `11689512` → `11,689,512`.
    public static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (i, digit) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { result += "," }
            result.append(digit)
        }
        return value < 0 ? "-" + result : result
    }

    /// `[1, 3, 224, 224]` → `1x3x224x224`.
    public static func shape(_ shape: [Int]) -> String {
        shape.isEmpty ? "scalar" : shape.map(String.init).joined(separator: "x")
    }

    /// Fixed decimals, for timings, rates and probabilities in tables (`-` when not finite).
    /// Three significant digits in exponent form (`1.23e-04`), for values spanning decades.
    public static func scientific(_ value: Double) -> String {
        guard value.isFinite else { return "nan" }
        return String(format: "%.2e", value)
    }

    /// Up to 4 significant digits, plain or exponent form as `%g` chooses.
    public static func general(_ value: Double) -> String {
        guard value.isFinite else { return "nan" }
        return String(format: "%.4g", value)
    }

    public static func fixed(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return "-" }
        return String(format: "%.\(max(0, min(decimals, 12)))f", value)
    }
}
