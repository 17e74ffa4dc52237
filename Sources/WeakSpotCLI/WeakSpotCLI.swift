import Support
import Training
import Influence
import Support
import DataInput
import Execution
import Linalg
import NetworkIR
import ONNXFormat

/// The command line as a library: `WeakSpotCLI.main(arguments, output:, error:)` runs one
/// command in-process and returns the exit code, so tests need no process.
///
/// Exit codes (SPEC.md): 0 success; 1 a gate threshold failed; 2 bad usage or bad input, with
/// one line `error: <file>: <place>: <what was expected>` (usage errors add
/// `See 'weakspot <command> --help'.`); 3 an internal error. Every error thrown below is caught
/// here; nothing a user passes ends the process another way.
public enum WeakSpotCLI {
    public static let version = "0.1.0"

    /// Runs the command line `arguments` (without the program name) writing results to `output`
    /// and messages and progress to `error`. `errorIsTerminal` draws progress as a bar.
    public static func main<Output: TextOutputStream, ErrorOutput: TextOutputStream>(
        _ arguments: [String], output: inout Output, error: inout ErrorOutput, errorIsTerminal: Bool = false
    ) -> Int32 {
        let console = Console(output: output, error: error, errorIsTerminal: errorIsTerminal)
        let code = run(arguments, console: console)
        if let written = console.standardOutput as? Output { output = written }
        if let written = console.error as? ErrorOutput { error = written }
        return code
    }

    /// Runs the process's own command line on standard output and standard error and returns the
    /// exit code (`Sources/weakspot/main.swift` exits with it).
    public static func main() -> Int32 {
        var output = StandardStream.output
        var error = StandardStream.error
        return main(Array(CommandLine.arguments.dropFirst()), output: &output, error: &error,
                    errorIsTerminal: StandardStream.errorIsTerminal)
    }

    static func run(_ arguments: [String], console: Console) -> Int32 {
        do {
            return try dispatch(arguments, console: console)
        } catch {
            let report = ErrorReport(error)
            console.printError(report.message)
            return report.exitCode
        }
    }

    static func dispatch(_ arguments: [String], console: Console) throws -> Int32 {
        guard let first = arguments.first else {
            throw CLIError.usage(command: "", message: "expected a subcommand: \(CommandTable.entries.map(\.name).joined(separator: ", "))")
        }
        switch first {
        case "-h", "--help":
            console.output.write(HelpFormatter.rootHelp(entries: CommandTable.entries))
            return ExitCode.success
        case "--version":
            console.print(version)
            return ExitCode.success
        case "help":
            guard let name = arguments.dropFirst().first else {
                console.output.write(HelpFormatter.rootHelp(entries: CommandTable.entries))
                return ExitCode.success
            }
            return try dispatch([name, "--help"], console: console)
        default:
            break
        }
        guard let entry = CommandTable.entry(named: first) else {
            let names = CommandTable.entries.map(\.name)
            let hint = Suggestion.closest(to: first, among: names).map { " (did you mean '\($0)'?)" } ?? ""
            let what = first.hasPrefix("-") ? "option" : "subcommand"
            throw CLIError.usage(command: "", message: "unknown \(what) '\(first)'\(hint)")
        }
        switch entry.action {
        case .planned(let issue):
            let rest = arguments.dropFirst().prefix { $0 != "--" }
            if rest.contains("--help") || rest.contains("-h") {
                console.output.write(HelpFormatter.plannedHelp(entry, issue: issue))
                return ExitCode.success
            }
            throw CLIError.notImplemented(command: entry.name, issue: issue)
        case .built(let spec, let body):
            switch try ArgumentScanner.scan(Array(arguments.dropFirst()), spec: spec) {
            case .help:
                console.output.write(HelpFormatter.help(for: spec))
                return ExitCode.success
            case .arguments(let parsed):
                return try body(parsed, console)
            }
        }
    }
}

/// The message and exit code for an error that ended a command.
struct ErrorReport {
    var message: String
    var exitCode: Int32

    init(_ error: any Error) {
        switch error {
        case let cli as CLIError:
            switch cli {
            case .usage(let command, let message):
                let help = command.isEmpty ? "weakspot --help" : "weakspot \(command) --help"
                self.init(message: "error: \(message)\nSee '\(help)'.", exitCode: ExitCode.badInput)
            case .input(let message):
                self.init(message: "error: \(message)", exitCode: ExitCode.badInput)
            case .notImplemented(let command, let issue):
                self.init(message: "error: 'weakspot \(command)' is not implemented yet (issue \(issue))", exitCode: ExitCode.badInput)
            case .internal(let message):
                self.init(message: "error: internal error: \(message)", exitCode: ExitCode.internalError)
            case .interrupted(let message):
                self.init(message: message, exitCode: ExitCode.interrupted)
            }
        case is ONNXError, is GraphError, is ExecutionError, is DatasetError, is NPYError,
             is ImageDecodingError, is PreprocessError, is LinalgError, is InfluenceError, is TrainingError, is FileError, is OptionError:
            self.init(message: "error: \(error)", exitCode: ExitCode.badInput)
        default:
            self.init(message: "error: internal error: \(error)", exitCode: ExitCode.internalError)
        }
    }

    init(message: String, exitCode: Int32) {
        self.message = message
        self.exitCode = exitCode
    }
}
