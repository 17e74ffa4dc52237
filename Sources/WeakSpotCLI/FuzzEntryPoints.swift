import Foundation

/// The command line's own parsers, reachable from raw bytes for the fuzz executable
/// (`Sources/weakspot-fuzz`, docs/reliability.md). Each runs exactly the code a command runs on
/// a file or an argument list, minus the file system; errors are returned, never fatal.
public enum FuzzEntryPoints {
    /// `gate`/`rank`/`plan`'s report reading: JSON parse, schema key, schema validation.
    public static func readReport(_ bytes: [UInt8]) -> Bool {
        (try? ReportFile.decode(Data(bytes), path: "fuzz.json")) != nil
    }

    /// `prune`'s plan reading (shape of `plan.json`; checks against a model are not reached).
    public static func readPlan(_ bytes: [UInt8]) -> Bool {
        (try? PrunePlanFile.parse(String(decoding: bytes, as: UTF8.self), path: "fuzz.json")) != nil
    }

    /// The argument scanner of one built command: the first byte picks the command, the rest is
    /// split at NUL bytes into arguments. Help requests render the help text, as `--help` does.
    public static func scanArguments(_ bytes: [UInt8]) -> Bool {
        let specs: [CommandSpec] = CommandTable.entries.compactMap {
            if case .built(let spec, _) = $0.action { return spec }
            return nil
        }
        guard let first = bytes.first, !specs.isEmpty else { return false }
        let spec = specs[Int(first) % specs.count]
        let arguments = bytes.dropFirst().split(separator: 0, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        switch try? ArgumentScanner.scan(arguments, spec: spec) {
        case .help?: return !HelpFormatter.help(for: spec).isEmpty
        case .arguments?: return true
        case nil: return false
        }
    }
}
