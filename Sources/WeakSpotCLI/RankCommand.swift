import Reporting

/// `weakspot rank REPORT`: rankings from a report (`Ranking` in the library makes them).
enum RankCommand: Command {
    static let spec = CommandSpec(
        name: "rank",
        abstract: "Read a report and print rankings.",
        discussion: """
        Ranks the report's items by measured influence (rank 1 = weakest; ties by layer, channel, \
        id as in the report), over all items (--by global) or within each layer (--by layer, \
        which adds each item's rank in its layer). The report is checked against the \
        weakspot.report/1 JSON Schema first. --summary prints the per-layer table, the latent \
        items, estimator agreement and rank stability as well.
        """,
        usage: "rank <report.json> [--top <k>] [--by global|layer] [--format table|json|csv] [<options>]",
        arguments: [ArgumentSpec(name: "REPORT", help: "A report written by 'weakspot profile' or 'weakspot merge'.")],
        options: OptionSpec.declared(RankRequest.self) + JSONFileOptions.specs)

    /// Parses, reads the report (schema-checked, typed) and prints `Ranking`'s text.
    static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
        let path = arguments.positionals[0]
        let request = try arguments.request(RankRequest.self)
        let report = try ReportFile.load(path, limits: JSONFileOptions.limits(arguments), measuredFor: "rank")
        let text: String
        do { text = try Ranking.text(report, path: path, request: request) } catch { throw arguments.usageError(error.message) }
        let defaultName = "rank.\(request.format == .table ? "txt" : request.format.rawValue)"
        let output = try OutputFile.resolve(arguments, OutputOption(option: "output", defaultName: defaultName), default: "-", console: console)!
        try OutputFile.write(text, to: output, console: console)
        return ExitCode.success
    }
}
