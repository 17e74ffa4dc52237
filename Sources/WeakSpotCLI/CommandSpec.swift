/// What a subcommand accepts, written once and used both to scan arguments and to print `--help`.
struct CommandSpec: Sendable {
    /// The subcommand's name as typed (`count`).
    var name: String
    /// One sentence for `weakspot --help` and the OVERVIEW line.
    var abstract: String
    /// Further paragraphs after the overview (formats, defaults, examples); may be empty.
    var discussion: String = ""
    /// The USAGE line after `weakspot `; generated from the arguments when nil.
    var usage: String? = nil
    var arguments: [ArgumentSpec] = []
    var options: [OptionSpec] = []

    /// The option called `--name`, or (for `short` names) `-n`.
    func option(named name: String) -> OptionSpec? { options.first { $0.name == name } }
    func option(short: Character) -> OptionSpec? { options.first { $0.short == short } }
}

/// A positional argument.
struct ArgumentSpec: Sendable {
    /// Upper-case placeholder shown in help (`MODEL`).
    var name: String
    var help: String
    var isOptional: Bool = false
    /// Takes every remaining positional (must be the last argument).
    var isRepeating: Bool = false
}

/// A `--long-name` option: a flag, or an option taking one value per occurrence.
struct OptionSpec: Sendable {
    enum Kind: Sendable, Equatable {
        case flag
        /// Takes a value; `placeholder` is shown in help (`--top <k>`).
        case value(placeholder: String)
    }

    /// The long name without dashes (`input-shape`).
    var name: String
    var short: Character? = nil
    var kind: Kind
    var help: String
    /// Shown as `(default: ...)` after the help text.
    var defaultText: String? = nil
    /// May be given several times; every value is kept in order. Otherwise the last one wins.
    var isRepeating: Bool = false

    static func flag(_ name: String, short: Character? = nil, help: String) -> OptionSpec {
        OptionSpec(name: name, short: short, kind: .flag, help: help)
    }

    static func value(_ name: String, short: Character? = nil, _ placeholder: String, help: String,
                      default defaultText: String? = nil, repeating: Bool = false) -> OptionSpec {
        OptionSpec(name: name, short: short, kind: .value(placeholder: placeholder), help: help,
                   defaultText: defaultText, isRepeating: repeating)
    }

    /// How the option is written in help: `-o, --output <file>`.
    var synopsis: String {
        var text = short.map { "-\($0), " } ?? ""
        text += "--\(name)"
        if case .value(let placeholder) = kind { text += " <\(placeholder)>" }
        return text
    }
}
