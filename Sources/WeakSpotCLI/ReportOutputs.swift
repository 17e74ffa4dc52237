import Influence
import Reporting
import Support

/// The files `profile` and `merge` write: the report (`-o`, default report.json), `--csv`,
/// `--html`, and for `profile` the `--checkpoint`; resolved together so that at most one of
/// them is `-` and a folder path gets each one's default name.
struct ReportOutputs {
    var report: OutputDestination
    var csv: OutputDestination?
    var html: OutputDestination?
    /// `--checkpoint`'s file (never standard output).
    var checkpoint: String?

    static let reportOption = OutputOption(option: "output", defaultName: "report.json")
    static let csvOption = OutputOption(option: "csv", defaultName: "report.csv")
    static let htmlOption = OutputOption(option: "html", defaultName: "report.html")
    static let checkpointOption = OutputOption(option: "checkpoint", defaultName: "profile.checkpoint", content: .checkpoint)

    static func resolve(_ arguments: ParsedArguments, checkpoint withCheckpoint: Bool, console: Console) throws(CLIError) -> ReportOutputs {
        let options = [reportOption, csvOption, htmlOption] + (withCheckpoint ? [checkpointOption] : [])
        var given: [String?] = options.map { arguments.value($0.option) }
        given[0] = given[0] ?? reportOption.defaultName
        let resolved = try OutputFile.resolve(arguments, Array(zip(options, given)), console: console)
        return ReportOutputs(report: resolved[0]!, csv: resolved[1], html: resolved[2], checkpoint: withCheckpoint ? resolved[3]?.path : nil)
    }

    /// The report's files whose path is an existing file, for `merge`'s refusal to overwrite its inputs.
    var files: [(option: String, path: String)] {
        [("-o", report.path), ("--csv", csv?.path), ("--html", html?.path)].compactMap { option, path in path.map { (option, $0) } }
    }

    func write(_ document: JSONValue, console: Console) throws(CLIError) {
        try OutputFile.write(ProfileReport.text(document), to: report, console: console)
        if let csv { try OutputFile.write(ReportCSV.text(document), to: csv, console: console) }
        if let html { try OutputFile.writeHTML(document, to: html, console: console) }
    }
}
