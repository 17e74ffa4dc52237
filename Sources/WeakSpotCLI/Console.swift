#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a command writes: results on `output`, diagnostics and progress on `error`.
///
/// Commands never print directly, so the whole command line runs in-process in tests with two
/// strings as streams. `errorIsTerminal` chooses how progress is drawn (a bar redrawn in place on
/// a terminal, one plain line per step otherwise).
public final class Console {
    /// The process's standard output (a string in tests).
    private(set) var standardOutput: any TextOutputStream
    var error: any TextOutputStream
    /// Set when a command writes one of its files to standard output (`-o -`): its messages
    /// (summaries, tables, "report: …") then go to standard error, so standard output holds the
    /// file alone.
    var messagesOnStandardError = false
    /// Where messages and results printed for people go: standard output, or standard error
    /// once `messagesOnStandardError` is set.
    var output: any TextOutputStream {
        get { messagesOnStandardError ? error : standardOutput }
        set { if messagesOnStandardError { error = newValue } else { standardOutput = newValue } }
    }
    /// Whether standard error is an interactive terminal (progress bar rather than lines).
    public let errorIsTerminal: Bool

    public init(output: any TextOutputStream, error: any TextOutputStream, errorIsTerminal: Bool) {
        self.standardOutput = output
        self.error = error
        self.errorIsTerminal = errorIsTerminal
    }

    /// Writes a file's contents to standard output (`-o -`), whatever `messagesOnStandardError` says.
    func writeStandardOutput(_ text: String) {
        standardOutput.write(text)
    }

    /// Writes `text` and a newline to the output stream.
    func print(_ text: String = "") {
        output.write(text)
        output.write("\n")
    }

    /// Writes `text` and a newline to the error stream.
    func printError(_ text: String) {
        error.write(text)
        error.write("\n")
    }

    /// Writes `text` as is to the error stream (progress redraws).
    func writeError(_ text: String) {
        error.write(text)
    }
}

/// The process's standard output or standard error as a `TextOutputStream`.
///
/// Writes go straight to the file descriptor (no buffering), so that results on standard output
/// and progress on standard error interleave in the order they were produced.
public struct StandardStream: TextOutputStream, Sendable {
    private let descriptor: Int32

    public static var output: StandardStream { StandardStream(descriptor: STDOUT_FILENO) }
    public static var error: StandardStream { StandardStream(descriptor: STDERR_FILENO) }

    public mutating func write(_ string: String) {
        var bytes = Array(string.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return -1 }
                return systemWrite(descriptor, base + offset, buffer.count - offset)
            }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }

    private func systemWrite(_ descriptor: Int32, _ pointer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.write(descriptor, pointer, count)
        #else
        return Darwin.write(descriptor, pointer, count)
        #endif
    }

    /// Whether standard error is attached to a terminal.
    public static var errorIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }
}
