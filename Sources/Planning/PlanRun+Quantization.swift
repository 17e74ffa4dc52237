import Influence
import NetworkIR
import Quantization
import Support

/// `weakspot plan --quantize` as one library call: the sensitivity table from the report (or the
/// weight-error proxy), greedy widths under the target, the whole assignment measured on the
/// inputs as one fake-quantized model (`QuantizedGraph`, what the QDQ export computes) with the
/// limits' back-off, and the plan document.
extension PlanRun {
    /// `calibration`: the inputs activation ranges are calibrated on (`--calibrate`); nil uses
    /// the verification inputs.
    public func runQuantization(report: JSONValue, reportPath: String, modelObject: JSONValue, batches: [(input: Tensor, labels: [Int]?)],
                                calibration: [Tensor]? = nil, progress: (String) -> Void) throws -> (result: QuantizationPlanResult, plan: QuantizationPlan) {
        let options = request.options
        let granularityText = report["settings"]?["quantizeGranularity"]?.stringValue ?? QuantizationGranularity.channel.rawValue
        guard let granularity = QuantizationGranularity(rawValue: granularityText) else {
            throw PlanInputError("\(reportPath): settings.quantizeGranularity: expected channel or tensor, got '\(granularityText)'")
        }
        let measuredTable: QuantizationSensitivity
        do { measuredTable = try QuantizationSensitivity.measured(report: report, graph: graph, granularity: granularity) } catch {
            throw PlanInputError("\(reportPath): \(error)")
        }
        let table = options.criterion == .mse ? QuantizationSensitivity.weightError(like: measuredTable, graph: graph, granularity: granularity) : measuredTable
        let budget = QuantizationBudget(layers: table.layers, totalParams: try graph.cost(batch: 1).params)
        var target: QuantizationTarget? = nil
        if case .quantization(let t)? = options.target { target = t }
        let everyLayer = Dictionary(uniqueKeysWithValues: table.layers.map { ($0.name, table.ladder[0]) })
        func assignment(_ bits: [String: Int]) -> QuantizationAssignment {
            QuantizationAssignment(weightBits: bits, granularity: granularity, activationBits: request.quantizeActivations, calibration: request.calibration)
        }
        var planner = QuantizationPlanner(table: table, budget: budget, target: target, limits: options.limits, measure: nil)
        let verifier = batches.isEmpty ? nil : try PlanVerifier(graph: graph, analysis: discovery.dependencies, batches: batches,
                                                                   threads: options.threads, outputKind: outputKind)
        if let verifier {
            // Activation ranges are the float model's, as onnxruntime calibrates: one pass, whatever the widths.
            let values = try QuantizedGraph.activationValues(graph, assignment: assignment(everyLayer))
            let ranges = try QuantizedGraph.calibrate(graph, values: values, method: request.calibration, batches: calibration ?? verifier.inputs, threads: options.threads)
            let graph = self.graph
            planner.measure = { bits in try verifier.measure(graph: try QuantizedGraph.build(graph, assignment: assignment(bits), ranges: ranges)) }
            planner.baselineClassAccuracy = verifier.baselineClassAccuracy
        }
        var result = try planner.plan(progress: progress)
        result.figures.evaluations = verifier?.evaluations ?? 0
        result.storedBytesAfter = budget.storedBytes(result.bits, opset: graph.opset)
        var settings = Dictionary(request.settings.map { ($0.key, JSONValue($0.value)) }, uniquingKeysWith: { a, _ in a })
        settings["report"] = .string(reportPath)
        let data: JSONValue = batches.isEmpty ? .null : .object(["source": .string(request.data ?? ""),
                                                                 "count": .int(batches.reduce(0) { $0 + $1.input.shape[0] })])
        let byName = Dictionary(uniqueKeysWithValues: table.layers.map { ($0.name, $0) })
        let layers = QuantizableLayer.all(in: graph).map { q in
            let bits = result.bits[q.name] ?? 32
            return QuantizationPlan.Layer(name: q.name, op: graph.nodes[q.node].op.onnxName, params: q.params, bits: bits,
                                          predicted: byName[q.name]?.measured[bits])
        }
        let unmeasured = layers.filter { byName[$0.name] == nil }.count
        let note = "Bits per weight of each Conv/Gemm/MatMul weight (32: kept in float\(unmeasured > 0 ? "; \(unmeasured) layers were not in the report" : "")); "
            + "bytesAfter counts quantized weights packed at their bits plus a float32 scale and an 8-bit zero point per scale (what --target size= and gate --max-bytes use); "
            + "storedBytesAfter is the QDQ file weakspot quantize writes, where every width up to 8 bits takes a byte. "
            + "Measured damage is before any quantization-aware training."
        let plan = QuantizationPlan(model: modelObject, data: data, settings: .object(settings), granularity: granularity,
                                    activationBits: request.quantizeActivations, calibration: request.calibration,
                                    bitsBefore: result.bitsBefore, bitsAfter: result.bitsAfter, bytesBefore: result.bytesBefore, bytesAfter: result.bytesAfter,
                                    storedBytesAfter: result.storedBytesAfter ?? result.bytesAfter, figures: result.figures, layers: layers, note: note)
        return (result, plan)
    }
}
