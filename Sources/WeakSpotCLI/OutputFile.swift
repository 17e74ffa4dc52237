import Influence
import Foundation
import Reporting
import Support
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where one output of a command goes, resolved once from what the user typed (docs/cli.md,
/// "Output paths"). Every command that writes a file resolves its paths here, so the rule lives
/// in one place: `-` is standard output, a folder gets the command's default file name, a
/// missing folder is refused before any work is done.
enum OutputDestination: Equatable, CustomStringConvertible {
    /// `-`: the command's standard output (its messages then go to standard error).
    case standardOutput
    /// A file path, checked to lie in an existing, writable folder.
    case file(String)

    /// The file path, or nil for standard output.
    var path: String? {
        if case .file(let path) = self { return path }
        return nil
    }

    /// How messages name it ("report: -" would read as a file named `-`).
    var description: String { path ?? "standard output" }
}

/// What one output option holds, which decides whether `-` can stand for it.
enum OutputContent {
    /// Text (JSON, CSV, HTML): `-` writes it to standard output.
    case text
    /// Bytes that are not text (.npy, .onnx): standard output is a text stream here, so `-` is
    /// refused; `/dev/stdout` writes the bytes to a pipe.
    case binary
    /// A file the command reads back (checkpoints): standard output cannot be read back.
    case checkpoint
}

/// One output option of a command: its name, the file name a folder path gets, what it holds.
struct OutputOption {
    var option: String
    var defaultName: String
    var content: OutputContent = .text
}

/// Output files of the commands, written atomically by Influence's `AtomicFile` (temporary file
/// in the same folder, then rename), with errors as command-line input errors; and output folders.
enum OutputFile {
    /// Resolves the outputs a command line names (an option absent and without `given` default
    /// gives nil), refusing two outputs on standard output; when one goes there, the console's
    /// messages move to standard error so that standard output holds the file alone.
    static func resolve(_ arguments: ParsedArguments, _ outputs: [(OutputOption, String?)], console: Console) throws(CLIError) -> [OutputDestination?] {
        var resolved: [OutputDestination?] = []
        for (output, given) in outputs {
            if let given { resolved.append(try destination(given, for: output, command: arguments.command)) } else { resolved.append(nil) }
        }
        let onStandardOutput = zip(outputs, resolved).filter { $0.1 == .standardOutput }.map { "--\($0.0.0.option)" }
        if onStandardOutput.count > 1 {
            throw arguments.usageError("\(onStandardOutput.joined(separator: " and ")) are all '-': only one output can go to standard output")
        }
        if !onStandardOutput.isEmpty { console.messagesOnStandardError = true }
        return resolved
    }

    /// One output: the option's value if given, else `defaultPath`, else nil.
    static func resolve(_ arguments: ParsedArguments, _ output: OutputOption, default defaultPath: String? = nil, console: Console) throws(CLIError) -> OutputDestination? {
        try resolve(arguments, [(output, arguments.value(output.option) ?? defaultPath)], console: console)[0]
    }

    /// What `text` (the value of `--option`) names: standard output, or a file in a folder that
    /// exists and can be written. A path that is a folder (`.`, `out/`, `out`) names
    /// `defaultName` inside it; a path ending in `/` must be an existing folder (none is created).
    static func destination(_ text: String, for output: OutputOption, command: String) throws(CLIError) -> OutputDestination {
        let option = "--\(output.option)"
        func refuse(_ message: String) -> CLIError { .usage(command: command, message: "\(option) \(text): \(message)") }
        if text == "-" {
            switch output.content {
            case .text: return .standardOutput
            case .binary: throw refuse("'-' (standard output) is for text; \(output.defaultName) is binary: give a file path (/dev/stdout to pipe the bytes)")
            case .checkpoint: throw refuse("a checkpoint is read back, so it cannot go to standard output: give a file path")
            }
        }
        guard !text.isEmpty else { throw refuse("expected a file path or '-'") }
        var path = text
        var status = stat()
        if stat(text, &status) == 0, status.st_mode & S_IFMT != S_IFDIR, status.st_mode & S_IFMT != S_IFREG {
            return .file(text)  // a device or pipe (/dev/null, /dev/stdout): written in place by AtomicFile
        }
        if isFolder(text) {
            path = (text.hasSuffix("/") ? text : text + "/") + output.defaultName
        } else if text.hasSuffix("/") {
            throw refuse("the folder \(text) does not exist (output folders are not created): create it first")
        }
        let folder = folderPart(of: path)
        guard isFolder(folder) else {
            throw CLIError.input("\(path): cannot write the file: the folder \(folder) does not exist")
        }
        if let reason = cannotCreateFiles(in: folder) {
            throw CLIError.input("\(path): cannot write the file: the folder \(folder) is not writable (\(reason))")
        }
        return .file(path)
    }

    /// The folder part of a path: "." for a bare name, "/" for a file at the root.
    static func folderPart(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let folder = String(path[..<slash])
        return folder.isEmpty ? "/" : folder
    }

    /// `out/` as `out`, so that files joined to it read `out/report.json` (the root stays `/`).
    static func folderWithoutTrailingSlash(_ path: String) -> String {
        var folder = Substring(path)
        while folder.count > 1 && folder.hasSuffix("/") { folder = folder.dropLast() }
        return String(folder)
    }

    static func isFolder(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR
    }

    /// Creates and removes a probe file: the only test that holds for every user (root passes
    /// `access(W_OK)` on a read-only folder) and every file system (/proc, read-only mounts).
    static func cannotCreateFiles(in folder: String) -> String? {
        let probe = folder + "/.weakspot-probe-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        close(fd)
        unlink(probe)
        return nil
    }

    /// Writes `text` to its destination: standard output, or the file atomically.
    static func write(_ text: String, to destination: OutputDestination, console: Console) throws(CLIError) {
        switch destination {
        case .standardOutput: console.writeStandardOutput(text)
        case .file(let path): try write(text, to: path)
        }
    }

    /// Influence's atomic writer, with its error as a command-line input error (exit code 2).
    static func write(_ text: String, to path: String) throws(CLIError) {
        do { try AtomicFile.write(text, to: path) } catch { throw CLIError.input(error.description) }
    }

    static func write(_ data: Data, to path: String) throws(CLIError) {
        do { try AtomicFile.write(data, to: path) } catch { throw CLIError.input(error.description) }
    }

    /// The HTML page of a report this tool wrote; a report it cannot render is a bug (exit code 3).
    static func writeHTML(_ report: JSONValue, to destination: OutputDestination, console: Console) throws(CLIError) {
        let page: String
        do { page = try HTMLReport.render(report: report) } catch { throw CLIError.internal("\(destination): cannot render the report: \(error.description)") }
        try write(page, to: destination, console: console)
    }

    /// Creates `path` and its parents when missing (`demo --out`, a folder of several outputs).
    static func makeFolder(_ path: String) throws(CLIError) {
        guard path != "-" else { throw CLIError.input("-: expected a folder for the output files ('-' is standard output, which cannot hold several files)") }
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) {
            guard isFolder.boolValue else { throw CLIError.input("\(path): expected a folder for the output files, got a file") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw CLIError.input("\(path): cannot create the folder: \(reason(error))")
        }
    }

    private static func reason(_ error: any Error) -> String { AtomicFile.reason(error) }
}
