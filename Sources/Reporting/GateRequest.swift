import Influence
import Support

/// Everything `weakspot gate` is asked to check, one field per threshold, declared once. Plans
/// and reports take different thresholds; `refuseOptions(notFor:path:)` says which.
public struct GateRequest: OptionRequest {
    public var maxKL: Double? = nil
    public var maxTop1: Double? = nil
    public var maxAccDrop: Double? = nil
    public var minMacsSaved: Double? = nil
    public var minParamsSaved: Double? = nil
    public var requireTarget = false
    /// `--max-bytes`: a quantization plan's parameters as stored, or a model's (`count`'s bytes).
    public var maxBytes: Double? = nil
    public var maxWeakFraction: Double? = nil
    public var minWeakFraction: Double? = nil
    public var maxHiddenCritical: Double? = nil
    public var minSpearman: Double? = nil
    /// `--estimator`; nil is l1 (kept apart so giving it without `--min-spearman` is refused).
    public var estimator: EstimatorKind? = nil
    /// `--kind` as typed; checked against the report's kinds (`Report.kind(named:)`).
    public var kind: String? = nil
    public var json = false

    public init() {}

    /// The documents a gate reads.
    public enum Document: String, Sendable {
        case plan, report
        /// `weakspot.quantize-plan/1`.
        case quantizationPlan = "quantization plan"
        /// An ONNX model: `--max-bytes` reads its stored bytes (`count`'s `bytes`).
        case model
    }

    static let planOptions = ["max-kl", "max-top1", "max-acc-drop", "min-macs-saved", "min-params-saved", "require-target"]
    static let quantizationPlanOptions = ["max-kl", "max-top1", "max-acc-drop", "max-bytes", "require-target"]
    static let reportOptions = ["max-weak-fraction", "min-weak-fraction", "max-hidden-critical", "min-spearman", "kind"]
    static let modelOptions = ["max-bytes"]

    /// Every usage problem exits 2 before any check: a CI job must tell a mistyped gate from a
    /// regression (exit 1).
    public func validate() throws(OptionError) {
        if estimator != nil && minSpearman == nil {
            throw OptionError("--estimator chooses what --min-spearman reads: give --min-spearman too")
        }
        let thresholds = Self.planOptions + ["max-bytes"] + Self.reportOptions.filter { $0 != "kind" }
        guard thresholds.contains(where: isGiven) else { throw OptionError("no threshold given: nothing to check (see weakspot gate --help)") }
    }

    /// Refuses a threshold of the other document (`--max-kl` on a report).
    public func refuseOptions(notFor document: Document, path: String) throws(OptionError) {
        let accepted: [String]
        switch document {
        case .plan: accepted = Self.planOptions
        case .report: accepted = Self.reportOptions
        case .quantizationPlan: accepted = Self.quantizationPlanOptions
        case .model: accepted = Self.modelOptions
        }
        let all = Self.planOptions + Self.quantizationPlanOptions + Self.reportOptions
        guard let name = all.first(where: { !accepted.contains($0) && isGiven($0) }) else { return }
        let (pruning, quantization) = (Self.planOptions.contains(name), Self.quantizationPlanOptions.contains(name))
        let model = Self.modelOptions.contains(name)
        let holders = pruning && quantization ? "plans" : pruning ? "pruning plans" : quantization ? (model ? "quantization plans and models" : "quantization plans") : "reports"
        throw OptionError("--\(name) applies to \(holders); \(path) is a \(document.rawValue)")
    }

    /// Whether `--name` was given.
    func isGiven(_ name: String) -> Bool {
        guard let declaration = Self.declaration(named: name) else { return false }
        let recorded = declaration.record(self)
        return recorded.contains { $0.value != .null && $0.value != .bool(false) }
    }

    public static let declarations: [OptionDeclaration<GateRequest>] = [
        threshold("max-kl", "x", \.maxKL, 0...Double.greatestFiniteMagnitude, help: "Plan: largest measured mean KL.", sample: "1"),
        threshold("max-top1", "x", \.maxTop1, 0...1, help: "Plan: largest measured top-1 change rate.", sample: "1"),
        threshold("max-acc-drop", "x", \.maxAccDrop, -1...1, help: "Plan: largest measured accuracy drop.", sample: "1"),
        threshold("min-macs-saved", "f", \.minMacsSaved, 0...1, help: "Plan: smallest fraction of MACs removed.", sample: "0"),
        threshold("min-params-saved", "f", \.minParamsSaved, 0...1, help: "Plan: smallest fraction of parameters removed.", sample: "0"),
        .flag("require-target", \.requireTarget, help: "Plan: the planner met its target.", effect: .result),
        threshold("max-bytes", "n", \.maxBytes, 0...Double.greatestFiniteMagnitude, help: "Quantization plan or model (.onnx): most bytes of parameters as stored (a model's as weakspot count reports them: a quantized model counts its integers and scales).", sample: "100000000"),
        threshold("max-weak-fraction", "f", \.maxWeakFraction, 0...1, help: "Report: largest fraction of weak items.", sample: "1"),
        threshold("min-weak-fraction", "f", \.minWeakFraction, 0...1, help: "Report: smallest fraction of weak items.", sample: "0"),
        threshold("max-hidden-critical", "n", \.maxHiddenCritical, 0...Double.greatestFiniteMagnitude, help: "Report: most hidden-critical items.", sample: "5"),
        threshold("min-spearman", "x", \.minSpearman, -1...1, help: "Report: smallest Spearman ρ of --estimator with the measurement.", sample: "-1"),
        .value("estimator", "name", \.estimator, ValueParser<EstimatorKind>.choice.optional, help: "Report: the estimator --min-spearman reads.",
               effect: .result, default: "l1", sample: "l2"),
        .value("kind", "kind", \.kind, ValueParser<String>.text.optional,
               help: "Report: the item kind --max/--min-weak-fraction count (channel, group, layer, tensor); needed when the report has several.",
               effect: .result, default: "the report's only kind", sample: "channel"),
        .flag("json", \.json, help: "Write the checks as JSON.", effect: .presentation),
    ]

    /// A threshold option: a finite number in `range` (outside it a check could never be met or
    /// never fail, so it is a usage error, not a check).
    static func threshold(_ name: String, _ placeholder: String, _ field: WritableKeyPath<GateRequest, Double?> & Sendable,
                          _ range: ClosedRange<Double>, help: String, sample: String) -> OptionDeclaration<GateRequest> {
        let parser = ValueParser<Double>(parse: { (text: String) throws(OptionError) -> Double in
            guard let v = Double(text), v.isFinite, range.contains(v) else {
                let bound = range.upperBound == .greatestFiniteMagnitude ? "a number ≥ \(NumberText.general(range.lowerBound))"
                    : "a number in [\(NumberText.general(range.lowerBound)), \(NumberText.general(range.upperBound))]"
                throw OptionError("expected \(bound), got '\(text)'")
            }
            return v
        }, setting: { .double($0) }, text: { NumberText.general($0) })
        return .value(name, placeholder, field, parser.optional, help: help, effect: .result, sample: sample)
    }
}
