import Foundation
import Influence
import Support

/// `--max-json-bytes` and `--max-json-depth`: the limits on every JSON file a command reads
/// (reports, plans, shards, profile checkpoints), and the one reader that applies them, so each
/// command refuses an oversized or over-nested file the same way, naming the option to raise.
public enum JSONFileOptions {
    static let specs: [OptionSpec] = [
        .value("max-json-bytes", "n", help: "Refuse JSON files (reports, plans, checkpoints) larger than this.", default: "1073741824"),
        .value("max-json-depth", "n", help: "Refuse JSON nested deeper than this many levels.", default: "256"),
    ]

    /// The deepest `--max-json-depth` accepted: the parser recurses twice per level, and this
    /// many levels stay far inside an 8 MiB stack even with a sanitizer's larger frames
    /// (JSONLimitTests parses a file this deep; 4× the default; WeakSpot's reports nest 5 levels).
    public static let maxDepthCeiling = 1_000

    static func limits(_ arguments: ParsedArguments) throws(CLIError) -> JSONLimits {
        let defaults = JSONLimits()
        return JSONLimits(maxBytes: try arguments.integer("max-json-bytes", default: defaults.maxBytes, in: 1...Int.max),
                          maxDepth: try arguments.integer("max-json-depth", default: defaults.maxDepth, in: 1...maxDepthCeiling))
    }

    /// The file's bytes, refused before reading when larger than `limits.maxBytes`.
    static func contents(of path: String, limits: JSONLimits) throws(CLIError) -> Data {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            throw CLIError.input("\(path): cannot read the file: it does not exist or is not readable")
        }
        if let size = attributes[.size] as? Int, size > limits.maxBytes {
            throw CLIError.input("\(path): \(limits.sizeError(bytes: size))")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError.input("\(path): cannot read the file") }
        return data
    }

    /// Reads and parses a JSON file within `limits`; `expected` ends the error ("expected a
    /// WeakSpot report (JSON)").
    static func read(_ path: String, limits: JSONLimits, expected: String) throws(CLIError) -> JSONValue {
        let data = try contents(of: path, limits: limits)
        do { return try JSONValue.parse(String(decoding: data, as: UTF8.self), maxDepth: limits.maxDepth) } catch {
            throw CLIError.input("\(path): \(error): expected \(expected)")
        }
    }
}
