/// A subcommand: its spec (for scanning and help) and what it does.
protocol Command: Sendable {
    static var spec: CommandSpec { get }
    /// Runs the command; returns the exit code (0, or 1 for a failed gate). Throws `CLIError` or
    /// any library error, which `WeakSpotCLI.main` turns into a message and exit code.
    static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32
}

/// One row of `weakspot --help`'s SUBCOMMANDS: a built command or a planned one.
struct CommandEntry: Sendable {
    enum Action: Sendable {
        case built(spec: CommandSpec, run: @Sendable (ParsedArguments, Console) throws -> Int32)
        /// Listed, answered with `not implemented yet (issue N)` and exit code 2.
        case planned(issue: Int)
    }

    var name: String
    var abstract: String
    var action: Action

    var isBuilt: Bool {
        if case .built = action { return true }
        return false
    }

    static func built<C: Command>(_ command: C.Type) -> CommandEntry {
        CommandEntry(name: C.spec.name, abstract: C.spec.abstract,
                     action: .built(spec: C.spec, run: { try C.run($0, console: $1) }))
    }

    static func planned(_ name: String, _ abstract: String, issue: Int) -> CommandEntry {
        CommandEntry(name: name, abstract: abstract, action: .planned(issue: issue))
    }
}

/// Every subcommand, in the order `weakspot --help` lists them. Adding a command is one line
/// here (and its `XCommand.swift` file); a planned command becomes built by replacing its row.
enum CommandTable {
    static let entries: [CommandEntry] = [
        .built(DemoCommand.self),
        .built(CountCommand.self),
        .built(RunCommand.self),
        .built(ProfileCommand.self),
        .built(MergeCommand.self),
        .built(RankCommand.self),
        .built(PlanCommand.self),
        .built(PruneCommand.self),
        .built(QuantizeCommand.self),
        .built(GateCommand.self),
        .built(FinetuneCommand.self),
        .built(BenchCommand.self),
    ]

    static func entry(named name: String) -> CommandEntry? { entries.first { $0.name == name } }
}
