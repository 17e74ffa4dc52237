import Foundation
import Influence
import Support

/// Reads a report.json that another command (or another machine) wrote: parsed, checked against
/// the report JSON Schema, then read into a typed `Report`, so a command acting on it never
/// meets a missing key later. Every error names the file.
enum ReportFile {
    /// `measuredFor`: the command that needs measured influence (`rank`, `merge`, `plan --criterion
    /// measured`), which then refuses a `--measure none` report (exit 2); nil accepts one.
    static func load(_ path: String, limits: JSONLimits = JSONLimits(), measuredFor command: String?) throws(CLIError) -> Report {
        let report = try decode(JSONFileOptions.contents(of: path, limits: limits), path: path, maxDepth: limits.maxDepth)
        if let command {
            do { try report.requireMeasured(by: command) } catch { throw CLIError.input("\(path): \(error.description)") }
        }
        return report
    }

    /// Parses and validates report bytes already in memory; `path` only names them in errors.
    /// Split from `load` so the fuzz target `report` reaches the same checks without a file.
    static func decode(_ data: Data, path: String, maxDepth: Int = JSONLimits().maxDepth) throws(CLIError) -> Report {
        let report: JSONValue
        do { report = try JSONValue.parse(String(decoding: data, as: UTF8.self), maxDepth: maxDepth) } catch {
            throw CLIError.input("\(path): \(error): expected a WeakSpot report (JSON)")
        }
        return try validated(report, path: path)
    }

    /// Checks a parsed document against the report schema and reads it (for a caller that has
    /// parsed the file already, such as `gate`, which reads plans and reports alike).
    static func validated(_ report: JSONValue, path: String) throws(CLIError) -> Report {
        guard report["schema"]?.stringValue == ProfileReport.schema else {
            throw CLIError.input("\(path): \"schema\": expected \"\(ProfileReport.schema)\", got \(report["schema"]?.rendered(pretty: false) ?? "nothing")")
        }
        let problems = ReportSchema.validator.violations(of: report, limit: 3)
        if let first = problems.first {
            throw CLIError.input("\(path): \(first)\(problems.count > 1 ? " (and more)" : ""): not a valid weakspot.report/1 (docs/schemas/report.schema.json)")
        }
        do { return try Report(json: report) } catch { throw CLIError.input("\(path): \(error.description)") }
    }
}
