import Influence
import Foundation
import Reporting
import Support
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Output files of the commands, written atomically by Influence's `AtomicFile` (temporary file
/// in the same folder, then rename), with errors as command-line input errors; and output folders.
enum OutputFile {
    /// Influence's atomic writer, with its error as a command-line input error (exit code 2).
    static func write(_ text: String, to path: String) throws(CLIError) {
        do { try AtomicFile.write(text, to: path) } catch { throw CLIError.input(error.description) }
    }

    static func write(_ data: Data, to path: String) throws(CLIError) {
        do { try AtomicFile.write(data, to: path) } catch { throw CLIError.input(error.description) }
    }

    /// The HTML page of a report this tool wrote; a report it cannot render is a bug (exit code 3).
    static func writeHTML(_ report: JSONValue, to path: String) throws(CLIError) {
        let page: String
        do { page = try HTMLReport.render(report: report) } catch { throw CLIError.internal("\(path): cannot render the report: \(error.description)") }
        try write(page, to: path)
    }

    /// Creates `path` and its parents when missing.
    static func makeFolder(_ path: String) throws(CLIError) {
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
