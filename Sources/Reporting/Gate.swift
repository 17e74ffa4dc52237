import Influence
import Planning
import Support

/// `weakspot gate`'s checks of a typed plan or report against a `GateRequest`: exit 0 when every
/// check passes, 1 when one fails. A check the document has no figure for is an error (exit 2),
/// never a failed check, so a CI job can tell a broken pipeline from a regression.
public enum Gate {
    public struct Check: Sendable, Equatable {
        public var name: String
        /// nil when the figure cannot be computed (a model with no MACs): the check fails.
        public var value: Double?
        public var threshold: Double
        public var atMost: Bool
        /// A count (bytes): printed in full (`21,660`), where `%.4g` would hide a difference of one.
        public var isCount = false
        public var passed: Bool { value.map { atMost ? $0 <= threshold : $0 >= threshold } ?? false }
    }

    /// What stops a gate before any check: a usage problem (an option that does not fit the
    /// document) or a document without the figure asked for. Both exit 2.
    public enum Failure: Error, Sendable {
        case usage(String)
        case input(String)
    }

    /// The checks of a plan read from `path`.
    public static func checks(_ plan: Plan, path: String, request: GateRequest) throws(Failure) -> [Check] {
        var checks = try measuredChecks(plan.measured, path: path, request: request)
        func saved(_ before: Int, _ after: Int) -> Double? { before > 0 ? 1 - Double(after) / Double(before) : nil }
        if let t = request.minMacsSaved { checks.append(Check(name: "MACs saved", value: saved(plan.macsBefore, plan.macsAfter), threshold: t, atMost: false)) }
        if let t = request.minParamsSaved { checks.append(Check(name: "params saved", value: saved(plan.paramsBefore, plan.paramsAfter), threshold: t, atMost: false)) }
        if request.requireTarget {
            guard let target = plan.settings["target"], target != .null else {
                throw .usage("--require-target: \(path) was planned without --target (settings.target is null): there is no target to require")
            }
            checks.append(Check(name: "target \(target.stringValue ?? target.rendered(pretty: false)) met", value: plan.targetMet ? 1 : 0, threshold: 1, atMost: false))
        }
        return checks
    }

    /// The checks of a quantization plan read from `path`: its measured damage, its size, its target.
    public static func checks(_ plan: QuantizationPlan, path: String, request: GateRequest) throws(Failure) -> [Check] {
        var checks = try measuredChecks(plan.measured, path: path, request: request)
        if let t = request.maxBytes { checks.append(Check(name: "bytes", value: Double(plan.bytesAfter), threshold: t, atMost: true)) }
        if request.requireTarget {
            guard let target = plan.settings["target"], target != .null else {
                throw .usage("--require-target: \(path) was planned without --target (settings.target is null): there is no target to require")
            }
            checks.append(Check(name: "target \(target.stringValue ?? target.rendered(pretty: false)) met", value: plan.targetMet ? 1 : 0, threshold: 1, atMost: false))
        }
        return checks
    }

    /// `--max-kl`, `--max-top1`, `--max-acc-drop` on a plan's measured metrics.
    static func measuredChecks(_ measured: [String: Double]?, path: String, request: GateRequest) throws(Failure) -> [Check] {
        var checks: [Check] = []
        for (threshold, metric, option) in [(request.maxKL, "kl", "max-kl"), (request.maxTop1, "top1", "max-top1"), (request.maxAccDrop, "acc", "max-acc-drop")] {
            guard let threshold else { continue }
            guard let value = measured?[metric] else {
                throw .input("\(path): \"measured\".\(metric): expected a number for --\(option), got nothing (plan verified without --data\(metric == "acc" ? " or labels" : "")?)")
            }
            checks.append(Check(name: "measured \(metric)", value: value, threshold: threshold, atMost: true))
        }
        return checks
    }

    /// The checks of a report read from `path`.
    public static func checks(_ report: Report, path: String, request: GateRequest) throws(Failure) -> [Check] {
        do { try report.requireMeasured(by: "gate") } catch { throw .input("\(path): \(error.description)") }
        var checks: [Check] = []
        if let t = request.maxWeakFraction { checks.append(try weakFraction(report, path: path, kind: request.kind, threshold: t, atMost: true)) }
        if let t = request.minWeakFraction { checks.append(try weakFraction(report, path: path, kind: request.kind, threshold: t, atMost: false)) }
        if let t = request.maxHiddenCritical {
            checks.append(Check(name: "hidden-critical items", value: report.hiddenCritical.map(Double.init), threshold: t, atMost: true))
        }
        if let t = request.minSpearman {
            let estimator = request.estimator ?? .l1
            guard let rho = report.spearman(of: estimator) else {
                let computed = report.comparedEstimators.map(\.rawValue)
                throw .input("\(path): agreement.\(estimator.rawValue).spearman: expected a number for --min-spearman, got nothing: the report compares \(computed.isEmpty ? "no estimator" : computed.joined(separator: ", ")) (profile --estimators \(estimator.rawValue))")
            }
            checks.append(Check(name: "\(estimator.rawValue) Spearman", value: rho, threshold: t, atMost: false))
        }
        return checks
    }

    /// The checks of a model: `storedBytes` is what `count` reports as its bytes.
    public static func checks(modelBytes storedBytes: Int, request: GateRequest) -> [Check] {
        request.maxBytes.map { [Check(name: "weight bytes", value: Double(storedBytes), threshold: $0, atMost: true, isCount: true)] } ?? []
    }

    /// The fraction of weak items of one kind: `kind`, or the report's only kind (a report of
    /// channels and layers has no single weak fraction, so it needs `--kind`).
    static func weakFraction(_ report: Report, path: String, kind text: String?, threshold: Double, atMost: Bool) throws(Failure) -> Check {
        let kind: ItemKind
        if let text {
            do { kind = try report.kind(named: text, holder: path) } catch { throw .usage(error.message) }
        } else {
            let present = report.kindsPresent
            guard present.count == 1 else {
                let held = present.isEmpty ? "no items" : present.map(\.rawValue).joined(separator: ", ") + " items"
                throw .usage("--\(atMost ? "max" : "min")-weak-fraction: \(path) has \(held): give --kind to say which the fraction counts")
            }
            kind = present[0]
        }
        let ofKind = report.items.filter { $0.kind == kind }
        let weak = ofKind.filter { $0.weak == true }.count
        return Check(name: "weak fraction of \(kind.rawValue)s", value: Double(weak) / Double(ofKind.count), threshold: threshold, atMost: atMost)
    }

    /// `--json`: `weakspot.gate/1`.
    public static func json(_ checks: [Check], path: String, document: GateRequest.Document) -> JSONValue {
        .object([
            "schema": "weakspot.gate/1", "file": .string(path), "kind": .string(document.rawValue), "pass": .bool(checks.allSatisfy(\.passed)),
            "checks": .array(checks.map { c in
                .object(["name": .string(c.name), "value": c.value.map { .double($0) } ?? .null, "threshold": .double(c.threshold),
                         "comparison": .string(c.atMost ? "<=" : ">="), "pass": .bool(c.passed)])
            }),
        ])
    }

    /// One line per check, failed checks first.
    public static func lines(_ checks: [Check]) -> [String] {
        checks.sorted(by: { !$0.passed && $1.passed }).map { c in
            func shown(_ v: Double) -> String { c.isCount && abs(v) < 1e18 && v == v.rounded() ? NumberText.grouped(Int(v)) : NumberText.general(v) }
            let value = c.value.map(shown) ?? "missing"
            return "\(c.passed ? "ok  " : "FAIL") \(c.name): \(value) (must be \(c.atMost ? "≤" : "≥") \(shown(c.threshold)))"
        }
    }
}
