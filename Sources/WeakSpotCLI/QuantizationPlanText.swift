import Foundation
import Influence
import NetworkIR
import ONNXFormat
import Planning
import Support

/// `weakspot plan --quantize`: calls the library's quantization planner, writes the plan and
/// prints its widths, sizes and damage.
enum QuantizationPlanText {
    static func run(request: PlanRequest, arguments: ParsedArguments, modelPath: String, reportPath: String, modelHash: String,
                    report: Report, loaded: LoadedModel, onnx: ONNXModel, inputShape: [Int]?, batches: [(input: Tensor, labels: [Int]?)],
                    calibration: [Tensor]?, output: OutputDestination, started: Date, console: Console) throws -> Int32 {
        let planned: (result: QuantizationPlanResult, plan: QuantizationPlan)
        do {
            var run = try PlanRun(request: request, model: onnx, graph: loaded.graph, inputShape: inputShape, modelPath: modelPath)
            run.outputKind = try ModelIOOptions.outputKind(arguments) ?? report.outputKind
            planned = try run.runQuantization(report: report.json, reportPath: reportPath,
                                              modelObject: .object(["path": .string(modelPath), "sha256": .string(modelHash)]), batches: batches,
                                              calibration: calibration,
                                              progress: { if !request.quiet { console.printError("plan: " + $0) } })
        } catch let e as PlanError {
            throw arguments.usageError(e.description)
        } catch let e as PlanInputError {
            throw CLIError.input(e.description)
        }
        try OutputFile.write(planned.plan.json.rendered(oneLineFrom: 2), to: output, console: console)
        printSummary(planned.plan, seconds: Date().timeIntervalSince(started), output: output.description, console: console)
        return ExitCode.success
    }

    /// The plan's calibration; for `measured`, how many outputs each calibrator was chosen for.
    static func calibrationText(_ p: QuantizationPlan) -> String {
        guard p.calibration == .measured else { return p.calibration.rawValue }
        var counts: [String: Int] = [:]
        for l in p.layers { if let m = l.activation { counts[m.rawValue, default: 0] += 1 } }
        return "measured: " + counts.keys.sorted().map { "\(counts[$0]!) \($0)" }.joined(separator: ", ")
    }

    static func printSummary(_ p: QuantizationPlan, seconds: Double, output: String, console: Console) {
        var widths: [Int: (layers: Int, params: Int)] = [:]
        for l in p.layers { let w = widths[l.bits] ?? (0, 0); widths[l.bits] = (w.layers + 1, w.params + l.params) }
        console.print("plan: bits for \(p.layers.count) layers (\(p.settings["criterion"]?.stringValue ?? "measured")) in \(NumberText.fixed(seconds, decimals: 1)) s")
        var table = TextTable(headers: ["bits", "layers", "weights"], alignments: [.right, .right, .right])
        table.rows = widths.keys.sorted(by: >).map { [String($0), String(widths[$0]!.layers), NumberText.grouped(widths[$0]!.params)] }
        console.output.write(table.rendered())
        console.print("average bits per weight: \(NumberText.fixed(p.bitsBefore, decimals: 2)) → \(NumberText.fixed(p.bitsAfter, decimals: 2)); "
                      + "bytes: \(NumberText.grouped(p.bytesBefore)) → \(NumberText.grouped(p.bytesAfter)) packed (\(NumberText.grouped(p.storedBytesAfter)) as `weakspot quantize` stores them)"
                      + (p.activationBits.map { "; activations at \($0) bits (\(calibrationText(p)))" } ?? ""))
        var metrics = TextTable(headers: ["metric", "predicted", "measured"], alignments: [.left, .right, .right])
        for name in ["kl", "mse", "top1", "acc"] where p.predicted?[name] != nil || p.measured?[name] != nil {
            metrics.rows.append([name, p.predicted?[name].map { NumberText.scientific($0) } ?? "-", p.measured?[name].map { NumberText.scientific($0) } ?? "-"])
        }
        if !metrics.rows.isEmpty { console.output.write(metrics.rendered()) }
        if !p.targetMet { console.print("note: the target was not met\(p.backedOff ? " (a limit made the plan back off)" : "")") }
        console.print("plan: \(output)")
    }
}
