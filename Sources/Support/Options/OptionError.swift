/// A command-line value that does not fit its option: the message names the option and what was
/// expected (`--batch: expected an integer in 1...4096, got '0'`). The command line turns it into a
/// usage error, exit code 2; library callers get the same sentence.
public struct OptionError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
