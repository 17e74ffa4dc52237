import Foundation

/// The scanned command line of one subcommand: positionals in order, option values in order,
/// flags present. Typed accessors throw `CLIError.usage` naming the option and what was expected.
struct ParsedArguments: Sendable {
    /// The subcommand, for `See 'weakspot <command> --help'.`
    var command: String
    var positionals: [String] = []
    var values: [String: [String]] = [:]
    var flags: Set<String> = []

    func flag(_ name: String) -> Bool { flags.contains(name) }

    /// The last value given for `--name`, or nil.
    func value(_ name: String) -> String? { values[name]?.last }

    /// Every value given for `--name`, in order.
    func allValues(_ name: String) -> [String] { values[name] ?? [] }

    func positional(_ index: Int) -> String? {
        positionals.indices.contains(index) ? positionals[index] : nil
    }

    func usageError(_ message: String) -> CLIError { .usage(command: command, message: message) }

    /// `--name` as an integer in `range`, or `defaultValue` when absent.
    func integer(_ name: String, default defaultValue: Int, in range: ClosedRange<Int>) throws(CLIError) -> Int {
        guard let text = value(name) else { return defaultValue }
        return try Self.integer(text, option: name, in: range, command: command)
    }

    static func integer(_ text: String, option name: String, in range: ClosedRange<Int>, command: String) throws(CLIError) -> Int {
        guard let parsed = Int(text.replacingOccurrences(of: "_", with: "")), range.contains(parsed) else {
            let bound = range.upperBound == Int.max ? "at least \(range.lowerBound)" : "in \(range.lowerBound)...\(range.upperBound)"
            throw CLIError.usage(command: command, message: "--\(name): expected an integer \(bound), got '\(text)'")
        }
        return parsed
    }

    /// `--name` as one of `choices`, or `defaultValue` when absent.
    func choice(_ name: String, _ choices: [String], default defaultValue: String) throws(CLIError) -> String {
        guard let text = value(name) else { return defaultValue }
        guard choices.contains(text) else {
            throw usageError("--\(name): expected one of \(choices.joined(separator: ", ")), got '\(text)'")
        }
        return text
    }

    /// `--name` as a comma-separated list of finite numbers, or nil when absent.
    func numberList(_ name: String) throws(CLIError) -> [Float]? {
        guard let text = value(name) else { return nil }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        var numbers: [Float] = []
        for part in parts {
            guard let number = Float(part.trimmingCharacters(in: .whitespaces)), number.isFinite else {
                throw usageError("--\(name): expected comma-separated numbers like 0.485,0.456,0.406, got '\(text)'")
            }
            numbers.append(number)
        }
        return numbers
    }

    /// `--name` as `N` or `HxW` (positive), or nil when absent.
    func size(_ name: String) throws(CLIError) -> (height: Int, width: Int, square: Bool)? {
        guard let text = value(name) else { return nil }
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        let numbers = parts.compactMap { Int($0) }
        guard numbers.count == parts.count, numbers.allSatisfy({ $0 > 0 && $0 <= 1 << 20 }) else {
            throw usageError("--\(name): expected a positive size N or HxW (like 224 or 224x160), got '\(text)'")
        }
        switch numbers.count {
        case 1: return (numbers[0], numbers[0], true)
        case 2: return (numbers[0], numbers[1], false)
        default: throw usageError("--\(name): expected N or HxW, got '\(text)'")
        }
    }
}
