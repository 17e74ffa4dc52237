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
        if request.floatRung, let target = report["settings"]?["quantizeTarget"]?.stringValue, target != "weights" {
            throw PlanInputError("\(reportPath): --float-rung gives a float weight no damage, which holds for a sweep of weights; this sweep rounds \(target) (settings.quantizeTarget)")
        }
        var table = options.criterion == .mse ? QuantizationSensitivity.weightError(like: measuredTable, graph: graph, granularity: granularity) : measuredTable
        if request.floatRung { table = table.withFloatRung() }
        let budget = QuantizationBudget(layers: table.layers, totalParams: try graph.cost(batch: 1).params)
        var target: QuantizationTarget? = nil
        if case .quantization(let t)? = options.target { target = t }
        let everyLayer = Dictionary(uniqueKeysWithValues: table.layers.map { ($0.name, table.ladder[0]) })
        // `--calibration measured`: each layer's chosen method (every planned layer's output, measured below).
        var chosen: [String: CalibrationMethod] = [:]
        let defaultMethod = request.calibration.method ?? .minmax
        func assignment(_ bits: [String: Int]) -> QuantizationAssignment {
            QuantizationAssignment(weightBits: bits.filter { $0.value < QuantizationSensitivity.floatBits }, granularity: granularity,
                                   activationBits: request.quantizeActivations, calibration: defaultMethod,
                                   floatLayers: Set(bits.filter { $0.value >= QuantizationSensitivity.floatBits }.keys), layerCalibration: chosen)
        }
        var planner = QuantizationPlanner(table: table, budget: budget, target: target, limits: options.limits, measure: nil)
        let verifier = batches.isEmpty ? nil : try PlanVerifier(graph: graph, analysis: discovery.dependencies, batches: batches,
                                                                   threads: options.threads, outputKind: outputKind)
        if let verifier {
            // Activation ranges are the float model's, as onnxruntime calibrates: one pass, whatever the widths.
            let calibrationInputs = calibration ?? verifier.inputs
            let ranges: [ValueID: (Float, Float)]
            if request.calibration == .measured, let bits = request.quantizeActivations {
                (ranges, chosen) = try chooseCalibrations(assignment(everyLayer), activationBits: bits, calibrationInputs: calibrationInputs,
                                                          verifier: verifier, progress: progress)
            } else {
                ranges = try QuantizedGraph.calibrate(graph, assignment: assignment(everyLayer), batches: calibrationInputs, threads: options.threads)
            }
            let graph = self.graph
            planner.measure = { bits in try verifier.measure(graph: try QuantizedGraph.build(graph, assignment: assignment(bits), ranges: ranges)) }
            planner.baselineClassAccuracy = verifier.baselineClassAccuracy
        } else if request.calibration == .measured {
            throw PlanInputError("--calibration measured measures each activation's calibrators on --data: give --data")
        }
        var result = try planner.plan(progress: progress)
        result.figures.evaluations = verifier?.evaluations ?? 0
        result.storedBytesAfter = budget.storedBytes(result.bits, opset: graph.opset)
        var settings = Dictionary(request.settings.map { ($0.key, JSONValue($0.value)) }, uniquingKeysWith: { a, _ in a })
        settings["report"] = .string(reportPath)
        let data: JSONValue = batches.isEmpty ? .null : .object(["source": .string(request.data ?? ""),
                                                                 "count": .int(batches.reduce(0) { $0 + $1.input.shape[0] })])
        let byName = Dictionary(uniqueKeysWithValues: table.layers.map { ($0.name, $0) })
        let final = assignment(result.bits)
        let layers = QuantizableLayer.all(in: graph).map { q in
            let bits = result.bits[q.name] ?? 32
            return QuantizationPlan.Layer(name: q.name, op: graph.nodes[q.node].op.onnxName, params: q.params, bits: bits,
                                          predicted: byName[q.name]?.measured[bits],
                                          activation: final.quantizesOutput(of: q.name) ? (chosen[q.name] ?? defaultMethod) : nil)
        }
        let unmeasured = layers.filter { byName[$0.name] == nil }.count
        let floatRung = request.floatRung ? layers.filter { byName[$0.name] != nil && $0.bits == QuantizationSensitivity.floatBits }.count : 0
        let note = "Bits per weight of each Conv/Gemm/MatMul weight (32: kept in float\(unmeasured > 0 ? "; \(unmeasured) layers were not in the report" : "")"
            + (request.floatRung ? "; \(floatRung) measured layers kept float on the float rung\(request.quantizeActivations != nil ? ", their outputs quantized like every planned layer's" : "")" : "") + "); "
            + "bytesAfter counts quantized weights packed at their bits plus a float32 scale and an 8-bit zero point per scale, float weights 4 bytes each (what --target size= and gate --max-bytes use); "
            + "storedBytesAfter is the QDQ file weakspot quantize writes, where every width up to 8 bits takes a byte. "
            + (request.calibration == .measured ? "Each layer's activation names the calibrator chosen for its output by measured damage on the plan's data. " : "")
            + "Measured damage is before any quantization-aware training."
        let plan = QuantizationPlan(model: modelObject, data: data, settings: .object(settings), granularity: granularity,
                                    activationBits: request.quantizeActivations, calibration: request.calibration,
                                    bitsBefore: result.bitsBefore, bitsAfter: result.bitsAfter, bytesBefore: result.bytesBefore, bytesAfter: result.bytesAfter,
                                    storedBytesAfter: result.storedBytesAfter ?? result.bytesAfter, figures: result.figures, layers: layers, note: note)
        return (result, plan)
    }

    /// `--calibration measured`: each activation's range by each of onnxruntime's calibrators
    /// (minmax, percentile, entropy) on the calibration inputs, then, for each activation, the
    /// float model with that activation alone fake-quantized at each distinct range, measured on
    /// the verification inputs; the range with the least KL wins (ties: the earlier of minmax,
    /// percentile, entropy). Returns the chosen ranges and each layer's method.
    func chooseCalibrations(_ probe: QuantizationAssignment, activationBits: Int, calibrationInputs: [Tensor], verifier: PlanVerifier,
                            progress: (String) -> Void) throws -> (ranges: [ValueID: (Float, Float)], methods: [String: CalibrationMethod]) {
        let activations = try QuantizedGraph.activationLayers(graph, assignment: probe)
        let values = activations.map(\.value)
        var candidates: [CalibrationMethod: [ValueID: (Float, Float)]] = [:]
        for method in CalibrationMethod.allCases {
            candidates[method] = try QuantizedGraph.calibrate(graph, values: values, method: method, batches: calibrationInputs, threads: request.options.threads)
        }
        var ranges: [ValueID: (Float, Float)] = [:], methods: [String: CalibrationMethod] = [:]
        var tally: [CalibrationMethod: Int] = [:]
        for (value, layers) in activations {
            guard verifier.observes(value) else { throw PlanInputError("activation '\(graph.values[value].name)' cannot be measured alone (not a layer's tail end)") }
            var tried: [(range: (Float, Float), kl: Double)] = []
            var best: (kl: Double, method: CalibrationMethod)? = nil
            var texts: [String] = []
            for method in CalibrationMethod.allCases {
                let range = candidates[method]![value]!
                let kl: Double
                if let same = tried.first(where: { $0.range.0 == range.0 && $0.range.1 == range.1 }) {
                    kl = same.kl
                } else {
                    let f = ActivationQuantizer.fakeQuantization(range: range, bits: activationBits)
                    kl = try verifier.measure(interventions: [value: { t in
                        t.storage.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = f.apply(p[i]) } }
                    }]).means["kl"] ?? .infinity
                    tried.append((range, kl))
                }
                texts.append("\(method.rawValue) \(String(format: "%.4g", kl))")
                if best == nil || kl < best!.kl { best = (kl, method) }
            }
            ranges[value] = candidates[best!.method]![value]!
            for l in layers { methods[l] = best!.method }
            tally[best!.method, default: 0] += 1
            progress("calibration of \(graph.values[value].name): kl \(texts.joined(separator: ", ")) → \(best!.method.rawValue)")
        }
        progress("calibration measured: " + CalibrationMethod.allCases.map { "\(tally[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", "))
        return (ranges, methods)
    }
}
