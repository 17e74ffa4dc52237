/// Splits a subcommand's arguments into positionals, option values and flags, by its spec.
///
/// Accepted forms: `--name VALUE`, `--name=VALUE`, `-x VALUE` for options with a short name,
/// `--flag`, positionals anywhere, and `--` after which everything is positional. A value may
/// start with a single dash (`--mean -0.5`), never with two. Unknown options, flags given a value,
/// options missing their value and wrong positional counts throw `CLIError.usage`; unknown names
/// come with the closest known option.
enum ArgumentScanner {
    /// What the scan found: either the arguments, or a request for help.
    enum Outcome {
        case arguments(ParsedArguments)
        case help
    }

    static func scan(_ arguments: [String], spec: CommandSpec) throws(CLIError) -> Outcome {
        var parsed = ParsedArguments(command: spec.name)
        var index = 0
        var optionsEnded = false
        func fail(_ message: String) -> CLIError { .usage(command: spec.name, message: message) }

        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if optionsEnded || argument == "-" || !argument.hasPrefix("-") || isNegativeNumber(argument) {
                parsed.positionals.append(argument)
                continue
            }
            if argument == "--" {
                optionsEnded = true
                continue
            }
            if argument == "-h" || argument == "--help" { return .help }

            let option: OptionSpec
            var attached: String? = nil
            if argument.hasPrefix("--") {
                let body = argument.dropFirst(2)
                let name: Substring
                if let equals = body.firstIndex(of: "=") {
                    name = body[..<equals]
                    attached = String(body[body.index(after: equals)...])
                } else {
                    name = body
                }
                guard let found = spec.option(named: String(name)) else {
                    throw fail("unknown option '--\(name)'" + suggestion(for: "--\(name)", in: spec))
                }
                option = found
            } else {
                let letters = Array(argument.dropFirst())
                guard letters.count == 1, let found = spec.option(short: letters[0]) else {
                    throw fail("unknown option '\(argument)'" + suggestion(for: argument, in: spec))
                }
                option = found
            }

            switch option.kind {
            case .flag:
                guard attached == nil else { throw fail("--\(option.name) is a flag and takes no value, got '\(argument)'") }
                parsed.flags.insert(option.name)
            case .value(let placeholder):
                let value: String
                if let attached {
                    value = attached
                } else if index < arguments.count, !arguments[index].hasPrefix("--") {
                    value = arguments[index]
                    index += 1
                } else {
                    throw fail("missing value for '\(option.synopsis.replacingOccurrences(of: " <\(placeholder)>", with: ""))': expected <\(placeholder)>")
                }
                if option.isRepeating {
                    parsed.values[option.name, default: []].append(value)
                } else {
                    parsed.values[option.name] = [value]
                }
            }
        }
        try checkPositionals(parsed.positionals, spec: spec)
        return .arguments(parsed)
    }

    /// `-1`, `-0.5`: a value in positional position, not an option.
    private static func isNegativeNumber(_ argument: String) -> Bool {
        argument.count > 1 && Double(argument) != nil
    }

    private static func checkPositionals(_ positionals: [String], spec: CommandSpec) throws(CLIError) {
        let required = spec.arguments.filter { !$0.isOptional }
        if positionals.count < required.count {
            let missing = required[positionals.count...].map { "<\($0.name.lowercased())>" }.joined(separator: ", ")
            throw CLIError.usage(command: spec.name, message: "missing argument \(missing)")
        }
        let repeats = spec.arguments.last?.isRepeating ?? false
        if !repeats && positionals.count > spec.arguments.count {
            throw CLIError.usage(command: spec.name, message: "unexpected argument '\(positionals[spec.arguments.count])'")
        }
    }

    /// ` (did you mean '--top'?)` when a known option is close to `typed`, else empty.
    private static func suggestion(for typed: String, in spec: CommandSpec) -> String {
        let known = spec.options.map { "--\($0.name)" } + ["--help"]
        guard let best = Suggestion.closest(to: typed, among: known) else { return "" }
        return " (did you mean '\(best)'?)"
    }
}
