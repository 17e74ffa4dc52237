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
        --max-weak-fraction, --min-weak-fraction, --max-hidden-critical, --min-spearman (of \
        --estimator, default l1). Prints one line per check (FAIL lines first); --json writes the \
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
            .flag("json", help: "Write the checks as JSON."),
        ] + JSONFileOptions.specs)

    struct Check {
        var name: String
        var value: Double?
        var threshold: Double
        var atMost: Bool
        var passed: Bool { value.map { atMost ? $0 <= threshold : $0 >= threshold } ?? false }
    }

    static let planOptions = ["max-kl", "max-top1", "max-acc-drop", "min-macs-saved", "min-params-saved"]
    static let reportOptions = ["max-weak-fraction", "min-weak-fraction", "max-hidden-critical", "min-spearman"]

    static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
        let path = arguments.positionals[0]
        let limits = try JSONFileOptions.limits(arguments)
        let document = try JSONFileOptions.read(path, limits: limits, expected: "a WeakSpot plan or report (JSON)")
        let schema = document["schema"]?.stringValue ?? ""
        func number(_ name: String) throws -> Double? {
            guard let text = arguments.value(name) else { return nil }
            guard let v = Double(text), v.isFinite else { throw arguments.usageError("--\(name): expected a number, got '\(text)'") }
            return v
        }
        var checks: [Check] = []
        let isPlan = schema == PlanDocument.schema
        if isPlan {
            if let name = reportOptions.first(where: { arguments.value($0) != nil }) { throw arguments.usageError("--\(name) applies to reports; \(path) is a plan") }
            for key in ["macsBefore", "macsAfter", "paramsBefore", "paramsAfter"] where document[key]?.intValue == nil {
                throw CLIError.input("\(path): \"\(key)\": expected an integer in a weakspot.plan/1")
            }
            let measured = document["measured"]
            for (option, metric) in [("max-kl", "kl"), ("max-top1", "top1"), ("max-acc-drop", "acc")] {
                if let t = try number(option) { checks.append(Check(name: "measured \(metric)", value: measured?[metric]?.doubleValue, threshold: t, atMost: true)) }
            }
            func saved(_ before: String, _ after: String) -> Double? {
                guard let b = document[before]?.doubleValue, let a = document[after]?.doubleValue, b > 0 else { return nil }
                return 1 - a / b
            }
            if let t = try number("min-macs-saved") { checks.append(Check(name: "MACs saved", value: saved("macsBefore", "macsAfter"), threshold: t, atMost: false)) }
            if let t = try number("min-params-saved") { checks.append(Check(name: "params saved", value: saved("paramsBefore", "paramsAfter"), threshold: t, atMost: false)) }
            if arguments.flag("require-target") {
                checks.append(Check(name: "target met", value: document["targetMet"]?.boolValue.map { $0 ? 1 : 0 }, threshold: 1, atMost: false))
            }
        } else if schema == ProfileReport.schema {
            if let name = planOptions.first(where: { arguments.value($0) != nil }) { throw arguments.usageError("--\(name) applies to plans; \(path) is a report") }
            let report = try ReportFile.validated(document, path: path)
            let items = Double(report["summary"]?["items"]?.intValue ?? 0)
            let weak = Double(report["summary"]?["weak"]?.intValue ?? 0)
            if let t = try number("max-weak-fraction") { checks.append(Check(name: "weak fraction", value: items > 0 ? weak / items : nil, threshold: t, atMost: true)) }
            if let t = try number("min-weak-fraction") { checks.append(Check(name: "weak fraction", value: items > 0 ? weak / items : nil, threshold: t, atMost: false)) }
            if let t = try number("max-hidden-critical") {
                checks.append(Check(name: "hidden-critical items", value: report["summary"]?["hiddenCritical"]?.doubleValue, threshold: t, atMost: true))
            }
            if let t = try number("min-spearman") {
                let estimator = arguments.value("estimator") ?? "l1"
                checks.append(Check(name: "\(estimator) Spearman", value: report["agreement"]?[estimator]?["spearman"]?.doubleValue, threshold: t, atMost: false))
            }
        } else {
            throw CLIError.input("\(path): \"schema\": expected \"\(PlanDocument.schema)\" or \"\(ProfileReport.schema)\", got \(document["schema"]?.rendered(pretty: false) ?? "nothing")")
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
}
