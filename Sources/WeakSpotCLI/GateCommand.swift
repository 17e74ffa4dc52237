import Influence
import Planning
import Reporting
import Support

/// `weakspot gate REPORT_OR_PLAN [thresholds]`: exit 0 when every threshold holds, 1 with one
/// line per failed threshold, 2 on bad input. For scripts and CI.
enum GateCommand: Command {
    static let spec = CommandSpec(
        name: "gate",
        abstract: "Exit 0 when thresholds hold, 1 when one fails.",
        discussion: """
        Reads a plan (weakspot.plan/1), a quantization plan (weakspot.quantize-plan/1), a \
        report (weakspot.report/1) or an ONNX model (.onnx) and checks each threshold given. \
        Plans: --max-kl, --max-top1, --max-acc-drop (on the measured metrics), --min-macs-saved, \
        --min-params-saved (fractions), --require-target; quantization plans: the measured \
        metrics, --max-bytes and --require-target; models: --max-bytes (the weights' stored \
        bytes as count reports them, so a quantized model is gated on its real size). Reports: \
        --max-weak-fraction, --min-weak-fraction (of one --kind), --max-hidden-critical, \
        --min-spearman (of --estimator, default l1). A threshold out of range, an option for the \
        other document, or a check the file has no figure for is a usage error (exit 2), never a \
        failed check. Prints one line per check (FAIL lines first); --json writes the \
        checks as JSON instead.
        """,
        usage: "gate <plan.json|report.json|model.onnx> [<thresholds>] [--json]",
        arguments: [ArgumentSpec(name: "FILE", help: "A plan, a report or an ONNX model.")],
        options: OptionSpec.declared(GateRequest.self) + JSONFileOptions.specs + ModelOptions.limits)

    /// Parses, reads the plan or report (typed; a missing field exits 2 naming the file and the
    /// field), lets `Gate` check it and prints the checks.
    static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
        let path = arguments.positionals[0]
        let request = try arguments.request(GateRequest.self)
        if path.lowercased().hasSuffix(".onnx") {
            do { try request.refuseOptions(notFor: .model, path: path) } catch { throw arguments.usageError(error.message) }
            let (loaded, model) = try LoadedModel.loadWithONNX(path: path, limits: ModelOptions.limits(arguments), inputShape: nil)
            let checks = Gate.checks(modelBytes: try CountReport(model: loaded, onnx: model, batch: 1).cost.bytes, request: request)
            return try report(checks, path: path, kind: .model, request: request, console: console)
        }
        let limits = try JSONFileOptions.limits(arguments)
        let document = try JSONFileOptions.read(path, limits: limits, expected: "a WeakSpot plan or report (JSON)")
        let kind: GateRequest.Document
        let checks: [Gate.Check]
        do {
            switch document["schema"]?.stringValue {
            case PlanDocument.schema?:
                kind = .plan
                do { try request.refuseOptions(notFor: .plan, path: path) } catch { throw Gate.Failure.usage(error.message) }
                let plan: Plan
                do { plan = try Plan(json: document) } catch { throw Gate.Failure.input("\(path): \(error.description) in a \(Plan.schema)") }
                checks = try Gate.checks(plan, path: path, request: request)
            case QuantizationPlan.schema?:
                kind = .quantizationPlan
                do { try request.refuseOptions(notFor: .quantizationPlan, path: path) } catch { throw Gate.Failure.usage(error.message) }
                let plan: QuantizationPlan
                do { plan = try QuantizationPlan(json: document) } catch { throw Gate.Failure.input("\(path): \(error.description) in a \(QuantizationPlan.schema)") }
                checks = try Gate.checks(plan, path: path, request: request)
            case ProfileReport.schema?:
                kind = .report
                do { try request.refuseOptions(notFor: .report, path: path) } catch { throw Gate.Failure.usage(error.message) }
                checks = try Gate.checks(try ReportFile.validated(document, path: path), path: path, request: request)
            default:
                throw CLIError.input("\(path): \"schema\": expected \"\(PlanDocument.schema)\", \"\(QuantizationPlan.schema)\" or \"\(ProfileReport.schema)\", got \(document["schema"]?.rendered(pretty: false) ?? "nothing")")
            }
        } catch let failure as Gate.Failure {
            switch failure {
            case .usage(let message): throw arguments.usageError(message)
            case .input(let message): throw CLIError.input(message)
            }
        }
        return try report(checks, path: path, kind: kind, request: request, console: console)
    }

    /// Prints the checks; exit 0 when all pass, 1 otherwise.
    static func report(_ checks: [Gate.Check], path: String, kind: GateRequest.Document, request: GateRequest, console: Console) throws -> Int32 {
        if request.json {
            console.output.write(Gate.json(checks, path: path, document: kind).rendered())
        } else {
            for line in Gate.lines(checks) { console.print(line) }
        }
        return checks.allSatisfy(\.passed) ? ExitCode.success : ExitCode.gateFailed
    }
}
