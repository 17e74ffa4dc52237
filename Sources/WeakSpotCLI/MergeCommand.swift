import Foundation
import Influence

/// `weakspot merge SHARD.json... -o report.json`: the report one run would have given.
enum MergeCommand: Command {
    static let spec = CommandSpec(
        name: "merge",
        abstract: "Join shard reports into the report a single run would give.",
        discussion: """
        Every shard must come from the same model, data and settings (apart from --shard), all of \
        one --shard I/N split, and together they must cover every item once. Each shard is checked \
        against the weakspot.report/1 JSON Schema before anything is written; an output path that \
        is one of the shards is refused.
        """,
        usage: "merge <shard.json>... -o <report.json>",
        arguments: [ArgumentSpec(name: "SHARD", help: "Shard reports written by 'weakspot profile --shard I/N'.", isRepeating: true)],
        options: [
            .value("output", short: "o", "report.json", help: "Where to write the merged report ('-': standard output).", default: "report.json"),
            .value("csv", "file", help: "Also write one row per item as CSV."),
            .value("html", "file", help: "Also write a self-contained HTML page with charts and the weak-item table."),
        ] + JSONFileOptions.specs)

    static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
        guard !arguments.positionals.isEmpty else { throw arguments.usageError("expected at least one shard report") }
        let outputs = try ReportOutputs.resolve(arguments, checkpoint: false, console: console)
        for (option, output) in outputs.files {
            if let input = arguments.positionals.first(where: { sameFile($0, output) }) {
                throw arguments.usageError("\(option) \(output): it is the shard \(input): merge never overwrites one of its inputs")
            }
        }
        var reports: [(path: String, report: ReportJSON)] = []
        let limits = try JSONFileOptions.limits(arguments)
        // Each shard is schema-checked and read typed; the merge itself joins the documents.
        for path in arguments.positionals { reports.append((path, try ReportFile.load(path, limits: limits, measuredFor: "merge").json)) }
        let merged: ReportJSON
        do { merged = try ProfileReport.merge(reports) } catch let e as InfluenceError { throw CLIError.input(e.description) }
        try outputs.write(merged, console: console)
        console.print("merged \(reports.count) shards, \(merged["items"]?.arrayValue?.count ?? 0) items: \(outputs.report)")
        return ExitCode.success
    }

    /// Whether two paths name one existing file (device and inode: links and `./` spellings too).
    static func sameFile(_ a: String, _ b: String) -> Bool {
        var x = stat(), y = stat()
        guard stat(a, &x) == 0, stat(b, &y) == 0 else { return false }
        return x.st_dev == y.st_dev && x.st_ino == y.st_ino
    }
}
