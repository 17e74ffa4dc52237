import Foundation
import NetworkIR

/// Renders `--help` pages in the layout of swift-argument-parser: OVERVIEW, USAGE, ARGUMENTS,
/// OPTIONS (and SUBCOMMANDS for the root), names in a left column, help wrapped at 80 columns.
enum HelpFormatter {
    static let width = 80
    static let nameColumn = 26

    static func help(for spec: CommandSpec) -> String {
        var lines: [String] = []
        lines += hanging("OVERVIEW: ", spec.abstract)
        if !spec.discussion.isEmpty {
            lines.append("")
            for (i, paragraph) in spec.discussion.components(separatedBy: "\n\n").enumerated() {
                if i > 0 { lines.append("") }
                lines += wrap(paragraph, width: width - 2).map { "  " + $0 }
            }
        }
        lines.append("")
        lines += hanging("USAGE: ", "weakspot " + (spec.usage ?? generatedUsage(spec)))
        if !spec.arguments.isEmpty {
            lines.append("")
            lines.append("ARGUMENTS:")
            for argument in spec.arguments {
                lines += row("<\(argument.name.lowercased())>", argument.help)
            }
        }
        lines.append("")
        lines.append("OPTIONS:")
        for option in spec.options {
            var text = option.help
            if let defaultText = option.defaultText { text += " (default: \(defaultText))" }
            if option.isRepeating { text += " May be repeated." }
            lines += row(option.synopsis, text)
        }
        lines += row("-h, --help", "Show help information.")
        return lines.joined(separator: "\n") + "\n"
    }

    static func rootHelp(entries: [CommandEntry]) -> String {
        var lines: [String] = []
        lines += hanging("OVERVIEW: ", "Find the weak channels, filters and layers of a CNN by measuring what removing them does.")
        lines.append("")
        lines.append("USAGE: weakspot <subcommand> [<arguments>] [<options>]")
        lines.append("")
        lines.append("OPTIONS:")
        lines += row("--version", "Show the version.")
        lines += row("-h, --help", "Show help information.")
        lines.append("")
        lines.append("SUBCOMMANDS:")
        for entry in entries {
            let note = entry.isBuilt ? "" : " (not built yet)"
            lines += row(entry.name, entry.abstract + note)
        }
        lines.append("")
        lines.append("ONNX OPERATORS (docs/operators.md):")
        lines += wrap(Importer.supportedOperators.joined(separator: ", "), width: width - 2).map { "  " + $0 }
        lines.append("")
        lines.append("  See 'weakspot help <subcommand>' for detailed help.")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Help for a listed command that is not built yet.
    static func plannedHelp(_ entry: CommandEntry, issue: Int) -> String {
        var lines = hanging("OVERVIEW: ", entry.abstract)
        lines.append("")
        lines += hanging("", "'weakspot \(entry.name)' is not built yet (issue \(issue)); SPEC.md describes what it will do.")
        return lines.joined(separator: "\n") + "\n"
    }

    static func generatedUsage(_ spec: CommandSpec) -> String {
        var parts = [spec.name]
        for argument in spec.arguments {
            var text = "<\(argument.name.lowercased())>"
            if argument.isRepeating { text += " ..." }
            parts.append(argument.isOptional ? "[\(text)]" : text)
        }
        if !spec.options.isEmpty { parts.append("[<options>]") }
        return parts.joined(separator: " ")
    }

    /// `LABEL text wrapped...`, continuation lines indented under the text.
    static func hanging(_ label: String, _ text: String) -> [String] {
        let indent = String(repeating: " ", count: label.count)
        return wrap(text, width: width - label.count).enumerated().map { ($0.offset == 0 ? label : indent) + $0.element }
    }

    /// `  name                    help text wrapped...`, continuation lines under the help column.
    static func row(_ name: String, _ text: String) -> [String] {
        let indent = String(repeating: " ", count: nameColumn)
        let wrapped = wrap(text, width: width - nameColumn)
        var lines: [String] = []
        let head = "  " + name
        if head.count + 2 <= nameColumn {
            lines.append(head.padding(toLength: nameColumn, withPad: " ", startingAt: 0) + (wrapped.first ?? ""))
            lines += wrapped.dropFirst().map { indent + $0 }
        } else {
            lines.append(head)
            lines += wrapped.map { indent + $0 }
        }
        return lines
    }

    /// Greedy word wrap; a word longer than `width` gets a line of its own.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ") {
            if current.isEmpty {
                current = String(word)
            } else if current.count + 1 + word.count <= width {
                current += " " + word
            } else {
                lines.append(current)
                current = String(word)
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }
}
