import Foundation
import Influence
import Planning
import Support

/// `weakspot gate REPORT_OR_PLAN [thresholds]`: exit 0 when every threshold holds, 1 with one
/// line per failed threshold, 2 on bad input. For scripts and CI.
enum GateCommand: Command {
    static let spec = CommandSpec(
        name: "gate",
        abstract: "Exit 0 when thresholds hold, 1 when one fails.",
        discussion: """
        Reads a plan (weakspot.plan/1) or a report (weakspot.report/1) and checks each threshold \
        given. Plans: --max-kl, --max-top1, --max-acc-drop (on the measured metrics), \
        --min-macs-saved, --min-params-saved (fractions), --require-target. Reports: \
        --max-weak-fraction, --min-weak-fraction (of one --kind), --max-hidden-critical, \
        --min-spearman (of --estimator, default l1). A threshold out of range, an option for the \
        other document, or a check the file has no figure for is a usage error (exit 2), never a \
        failed check. Prints one line per check (FAIL lines first); --json writes the \
        checks as JSON instead.
        """,
        usage: "gate <plan.json|report.json> [<thresholds>] [--json]",
        arguments: [ArgumentSpec(name: "FILE", help: "A plan or a report.")],
        options: [
            .value("max-kl", "x", help: "Plan: largest measured mean KL."),
            .value("max-top1", "x", help: "Plan: largest measured top-1 change rate."),
            .value("max-acc-drop", "x", help: "Plan: largest measured accuracy drop."),
            .value("min-macs-saved", "f", help: "Plan: smallest fraction of MACs removed."),
            .value("min-params-saved", "f", help: "Plan: smallest fraction of parameters removed."),
            .flag("require-target", help: "Plan: the planner met its target."),
            .value("max-weak-fraction", "f", help: "Report: largest fraction of weak items."),
            .value("min-weak-fraction", "f", help: "Report: smallest fraction of weak items."),
            .value("max-hidden-critical", "n", help: "Report: most hidden-critical items."),
            .value("min-spearman", "x", help: "Report: smallest Spearman ρ of --estimator with the measurement."),
            .value("estimator", "name", help: "Report: the estimator --min-spearman reads.", default: "l1"),
            .value("kind", "kind", help: "Report: the item kind --max/--min-weak-fraction count (channel, group, layer, tensor); needed when the report has several.", default: "the report's only kind"),
            .flag("json", help: "Write the checks as JSON."),
        ] + JSONFileOptions.specs)

    struct Check {
        var name: String
        var value: Double?
        var threshold: Double
        var atMost: Bool
        var passed: Bool { value.map { atMost ? $0 <= threshold : $0 >= threshold } ?? false }
    }

    static let planOptions = ["max-kl", "max-top1", "max-acc-drop", "min-macs-saved", "min-params-saved", "require-target"]
    static let reportOptions = ["max-weak-fraction", "min-weak-fraction", "max-hidden-critical", "min-spearman", "kind"]
    /// The range each threshold can take: a threshold outside it can never be met or never fail,
    /// so it is a usage error (exit 2), not a check.
    static let ranges: [String: ClosedRange<Double>] = [
        "max-kl": 0...Double.greatestFiniteMagnitude, "max-top1": 0...1, "max-acc-drop": -1...1,
        "min-macs-saved": 0...1, "min-params-saved": 0...1, "max-weak-fraction": 0...1, "min-weak-fraction": 0...1,
        "max-hidden-critical": 0...Double.greatestFiniteMagnitude, "min-spearman": -1...1,
    ]

    /// Every usage problem exits 2, before any check: a CI job must tell a mistyped gate from a
    /// regression (exit 1).
    static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
        let path = arguments.positionals[0]
        let limits = try JSONFileOptions.limits(arguments)
        let document = try JSONFileOptions.read(path, limits: limits, expected: "a WeakSpot plan or report (JSON)")
        let schema = document["schema"]?.stringValue ?? ""
        func number(_ name: String) throws -> Double? {
            guard let text = arguments.value(name) else { return nil }
            let range = ranges[name]!
            guard let v = Double(text), v.isFinite, range.contains(v) else {
                let bound = range.upperBound == .greatestFiniteMagnitude ? "a number ≥ \(NumberText.general(range.lowerBound))"
                    : "a number in [\(NumberText.general(range.lowerBound)), \(NumberText.general(range.upperBound))]"
                throw arguments.usageError("--\(name): expected \(bound), got '\(text)'")
            }
            return v
        }
        func given(_ name: String) -> Bool { arguments.value(name) != nil || arguments.flag(name) }
        var checks: [Check] = []
        let isPlan = schema == PlanDocument.schema
        if isPlan {
            if let name = reportOptions.first(where: given) { throw arguments.usageError("--\(name) applies to reports; \(path) is a plan") }
            for key in ["macsBefore", "macsAfter", "paramsBefore", "paramsAfter"] where document[key]?.intValue == nil {
                throw CLIError.input("\(path): \"\(key)\": expected an integer in a weakspot.plan/1")
            }
            let measured = document["measured"]
            for (option, metric) in [("max-kl", "kl"), ("max-top1", "top1"), ("max-acc-drop", "acc")] {
                guard let t = try number(option) else { continue }
                guard let value = measured?[metric]?.doubleValue else {
                    throw CLIError.input("\(path): \"measured\".\(metric): expected a number for --\(option), got \(measured?[metric]?.rendered(pretty: false) ?? "nothing") (plan verified without --data\(metric == "acc" ? " or labels" : "")?)")
                }
                checks.append(Check(name: "measured \(metric)", value: value, threshold: t, atMost: true))
            }
            func saved(_ before: String, _ after: String) -> Double? {
                guard let b = document[before]?.doubleValue, let a = document[after]?.doubleValue, b > 0 else { return nil }
                return 1 - a / b
            }
            if let t = try number("min-macs-saved") { checks.append(Check(name: "MACs saved", value: saved("macsBefore", "macsAfter"), threshold: t, atMost: false)) }
            if let t = try number("min-params-saved") { checks.append(Check(name: "params saved", value: saved("paramsBefore", "paramsAfter"), threshold: t, atMost: false)) }
            if arguments.flag("require-target") {
                guard let target = document["settings"]?["target"], target != .null else {
                    throw arguments.usageError("--require-target: \(path) was planned without --target (settings.target is null): there is no target to require")
                }
                guard let met = document["targetMet"]?.boolValue else {
                    throw CLIError.input("\(path): \"targetMet\": expected a boolean in a weakspot.plan/1")
                }
                checks.append(Check(name: "target \(target.stringValue ?? "") met", value: met ? 1 : 0, threshold: 1, atMost: false))
            }
        } else if schema == ProfileReport.schema {
            if let name = planOptions.first(where: given) { throw arguments.usageError("--\(name) applies to plans; \(path) is a report") }
            let report = try ReportFile.validated(document, path: path)
            if let t = try number("max-weak-fraction") { checks.append(try weakFraction(report, path: path, arguments, threshold: t, atMost: true)) }
            if let t = try number("min-weak-fraction") { checks.append(try weakFraction(report, path: path, arguments, threshold: t, atMost: false)) }
            if let t = try number("max-hidden-critical") {
                checks.append(Check(name: "hidden-critical items", value: report["summary"]?["hiddenCritical"]?.doubleValue, threshold: t, atMost: true))
            }
            if let t = try number("min-spearman") {
                let estimator = try arguments.choice("estimator", EstimatorKind.allCases.map(\.rawValue), default: "l1")
                guard let rho = report["agreement"]?[estimator]?["spearman"]?.doubleValue else {
                    let computed = EstimatorKind.allCases.map(\.rawValue).filter { report["agreement"]?[$0] != nil }
                    throw CLIError.input("\(path): agreement.\(estimator).spearman: expected a number for --min-spearman, got nothing: the report compares \(computed.isEmpty ? "no estimator" : computed.joined(separator: ", ")) (profile --estimators \(estimator))")
                }
                checks.append(Check(name: "\(estimator) Spearman", value: rho, threshold: t, atMost: false))
            }
        } else {
            throw CLIError.input("\(path): \"schema\": expected \"\(PlanDocument.schema)\" or \"\(ProfileReport.schema)\", got \(document["schema"]?.rendered(pretty: false) ?? "nothing")")
        }
        if arguments.value("estimator") != nil && arguments.value("min-spearman") == nil {
            throw arguments.usageError("--estimator chooses what --min-spearman reads: give --min-spearman too")
        }
        guard !checks.isEmpty else { throw arguments.usageError("no threshold given: nothing to check (see weakspot gate --help)") }
        let passed = checks.allSatisfy(\.passed)
        if arguments.flag("json") {
            let json: JSONValue = .object([
                "schema": "weakspot.gate/1", "file": .string(path), "kind": .string(isPlan ? "plan" : "report"), "pass": .bool(passed),
                "checks": .array(checks.map { c in
                    .object(["name": .string(c.name), "value": c.value.map { .double($0) } ?? .null, "threshold": .double(c.threshold),
                             "comparison": .string(c.atMost ? "<=" : ">="), "pass": .bool(c.passed)])
                }),
            ])
            console.output.write(json.rendered())
        } else {
            for c in checks.sorted(by: { !$0.passed && $1.passed }) {
                let value = c.value.map { NumberText.general($0) } ?? "missing"
                console.print("\(c.passed ? "ok  " : "FAIL") \(c.name): \(value) (must be \(c.atMost ? "≤" : "≥") \(NumberText.general(c.threshold)))")
            }
        }
        return passed ? ExitCode.success : ExitCode.gateFailed
    }

    /// The fraction of weak items of one kind: `--kind`, or the report's only kind (a report of
    /// channels and layers has no single weak fraction, so it needs `--kind`).
    static func weakFraction(_ report: JSONValue, path: String, _ arguments: ParsedArguments, threshold: Double, atMost: Bool) throws -> Check {
        let items = report["items"]?.arrayValue ?? []
        let present = ProfileReport.kindsPresent(items)
        let kind: String
        if let text = arguments.value("kind") {
            let singular = text.hasSuffix("s") ? String(text.dropLast()) : text
            guard present.contains(singular) else {
                throw arguments.usageError("--kind: \(path) has \(present.isEmpty ? "no" : present.joined(separator: ", ")) items, not '\(text)'")
            }
            kind = singular
        } else {
            guard present.count == 1 else {
                throw arguments.usageError("--\(atMost ? "max" : "min")-weak-fraction: \(path) has \(present.isEmpty ? "no items" : present.joined(separator: ", ") + " items"): give --kind to say which the fraction counts")
            }
            kind = present[0]
        }
        let ofKind = items.filter { $0["kind"]?.stringValue == kind }
        let weak = ofKind.filter { $0["weak"]?.boolValue == true }.count
        return Check(name: "weak fraction of \(kind)s", value: Double(weak) / Double(ofKind.count), threshold: threshold, atMost: atMost)
    }
}
