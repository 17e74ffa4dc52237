/// Why a command stopped, and so which exit code the process returns.
///
/// Errors of the libraries (`ONNXError`, `GraphError`, `DatasetError`, ...) are not wrapped:
/// `WeakSpotCLI.main` turns them into exit code 2 itself (see `ErrorReport`).
enum CLIError: Error, Equatable {
    /// Bad command line: printed as `error: <message>` plus `See 'weakspot <command> --help'.`;
    /// exit code 2. `command` is the subcommand path ("count"), empty for the root.
    case usage(command: String, message: String)
    /// Bad input found while working: printed as `error: <message>`; exit code 2. The message
    /// names the file, the place in it and what was expected.
    case input(String)
    /// A subcommand listed in `weakspot --help` that is not built yet; exit code 2.
    case notImplemented(command: String, issue: Int)
    /// A bug: something that should not happen whatever the input; exit code 3.
    case `internal`(String)
    /// Stopped by SIGINT after saving what can be resumed; exit code 130 (128 + SIGINT, what a
    /// shell reports for a process the signal ended).
    case interrupted(String)
}

/// The process exit codes of the contract (SPEC.md, "Command line").
public enum ExitCode {
    public static let success: Int32 = 0
    /// A gate threshold failed.
    public static let gateFailed: Int32 = 1
    /// Bad usage or bad input.
    public static let badInput: Int32 = 2
    /// An internal error.
    public static let internalError: Int32 = 3
    /// Stopped by SIGINT (`profile --checkpoint` saves first; `--resume` continues).
    public static let interrupted: Int32 = 130
}
