import Foundation

/// A plain-text table with aligned columns for terminal output: headers, a rule, rows, and an
/// optional footer row after a second rule. Numeric columns are right-aligned.
struct TextTable {
    enum Alignment { case left, right }

    var headers: [String]
    var alignments: [Alignment]
    var rows: [[String]] = []
    var footer: [String]? = nil

    func rendered() -> String {
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
enum NumberText {
    /// `11689512` → `11,689,512`.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (i, digit) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { result += "," }
            result.append(digit)
        }
        return value < 0 ? "-" + result : result
    }

    /// `[1, 3, 224, 224]` → `1x3x224x224`.
    static func shape(_ shape: [Int]) -> String {
        shape.isEmpty ? "scalar" : shape.map(String.init).joined(separator: "x")
    }

    /// Fixed decimals, for timings, rates and probabilities in tables (`-` when not finite).
    /// Three significant digits in exponent form (`1.23e-04`), for values spanning decades.
    static func scientific(_ value: Double) -> String {
        guard value.isFinite else { return "nan" }
        return String(format: "%.2e", value)
    }

    /// Up to 4 significant digits, plain or exponent form as `%g` chooses.
    static func general(_ value: Double) -> String {
        guard value.isFinite else { return "nan" }
        return String(format: "%.4g", value)
    }

    static func fixed(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return "-" }
        return String(format: "%.\(max(0, min(decimals, 12)))f", value)
    }
}
