import Dispatch
import Foundation
import NetworkIR
import ONNXFormat
import Quantization
import Support

/// `weakspot quantize MODEL [PLAN] --calibrate DATA -o model.qdq.onnx`: writes a QDQ model.
enum QuantizeCommand: Command {
    static let spec = CommandSpec(
        name: "quantize",
        abstract: "Apply a quantization plan: write a QDQ ONNX model that ONNX Runtime runs.",
        discussion: """
        Each quantized layer's weight becomes integers (int8 up to 8 bits, symmetric, one scale \
        per output channel or per tensor) behind a DequantizeLinear; with quantized activations, \
        a QuantizeLinear → DequantizeLinear pair (uint8, range calibrated on --calibrate's inputs) \
        follows each quantized layer's per-channel tail. The plan (plan --quantize, schema \
        weakspot.quantize-plan/1) names the layers, their bits (32: float weights) and the \
        calibrator of each quantized output (a float-rung layer keeps float weights and a \
        quantized output); without a plan, --bits B \
        quantizes every Conv, Gemm and MatMul weight at B bits and --activations 8 the \
        activations. The written model is read back and checked to be, bit for bit, the \
        fake-quantized model WeakSpot measures (docs/quantization.md).
        """,
        usage: "quantize <model> [<plan.json>] [--bits <b> [--activations 8]] [--calibrate <data>] -o <model.qdq.onnx> [<options>]",
        arguments: [ArgumentSpec(name: "MODEL", help: "The float ONNX model file."),
                    ArgumentSpec(name: "PLAN", help: "The quantization plan; optional with --bits.", isOptional: true)],
        options: OptionSpec.declared(QuantizeRequest.self) + PreprocessOptions.specs + [ModelOptions.inputShape] + ModelOptions.limits
            + JSONFileOptions.specs)

    static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
        let request = try arguments.request(QuantizeRequest.self)
        let planPath = arguments.positionals.count > 1 ? arguments.positionals[1] : nil
        switch (planPath, request.bits) {
        case (nil, nil): throw arguments.usageError("expected a plan, or --bits B to quantize every layer at B bits")
        case (_?, _?): throw arguments.usageError("--bits replaces the plan; give one or the other")
        default: break
        }
        guard let output = try OutputFile.resolve(arguments, OutputOption(option: "output", defaultName: "model.qdq.onnx", content: .binary), console: console)?.path else {
            throw arguments.usageError("missing option '-o <model.qdq.onnx>'")
        }
        let modelPath = arguments.positionals[0]
        let inputShape = try ModelOptions.inputShape(arguments)
        let limits = try ModelOptions.limits(arguments)
        var assignment = try planPath.map { try QuantizePlanFile.read(path: $0, limits: JSONFileOptions.limits(arguments)) }
            ?? QuantizationAssignment(weightBits: [:], activationBits: request.activations)
        let (loaded, model) = try LoadedModel.loadWithONNX(path: modelPath, limits: limits, inputShape: inputShape)
        if let bits = request.bits {
            assignment.weightBits = Dictionary(uniqueKeysWithValues: QuantizableLayer.all(in: loaded.graph).map { ($0.name, bits) })
            guard !assignment.weightBits.isEmpty else { throw CLIError.input("\(modelPath): no Conv, Gemm or MatMul with a constant weight to quantize") }
        }
        if let planPath, assignment.weightBits.isEmpty && (assignment.activationBits == nil || assignment.floatLayers.isEmpty) {
            throw CLIError.input("\(planPath): layers: the plan quantizes no layer, so there is nothing to write")
        }
        if let g = request.granularity { assignment.granularity = g }
        // --calibration replaces the plan's, each layer's measured choice included.
        if let c = request.calibration { assignment.calibration = c; assignment.layerCalibration = [:] }
        let threads = request.threads ?? ProcessInfo.processInfo.activeProcessorCount
        let calibration = try calibrationInputs(request, assignment: assignment, arguments, loaded: loaded, threads: threads)
        var progress: ProgressReporter? = nil
        let result: QuantizeRun.Result
        do {
            result = try QuantizeRun.run(
                model: model, graph: loaded.graph, assignment: assignment, calibration: calibration, check: nil, threads: threads,
                importOptions: ImportOptions(inputShape: inputShape, maxTensorElements: limits.maxTensorElements),
                progress: { done in
                    guard calibration.count > 1 else { return }
                    if progress == nil { progress = ProgressReporter(console: console, total: calibration.count, unit: "calibration batches", quiet: request.quiet) }
                    progress?.update(done: done)
                })
        } catch let error as QDQCheckFailure {
            throw CLIError.internal("\(modelPath): \(error)")
        } catch {
            throw CLIError.input("\(modelPath)\(planPath.map { " with \($0)" } ?? ""): \(error)")
        }
        progress?.finish()
        let bytes = Data(result.model.encoded())
        try OutputFile.write(bytes, to: output)
        try printSummary(result, loaded: loaded, original: model, fileBytes: bytes.count, output: output, console: console)
        return ExitCode.success
    }

    /// The calibration batches: read only when activations are quantized (their ranges).
    static func calibrationInputs(_ request: QuantizeRequest, assignment: QuantizationAssignment, _ arguments: ParsedArguments,
                                  loaded: LoadedModel, threads: Int) throws -> [Tensor] {
        guard assignment.activationBits != nil else {
            if request.calibrate != nil { throw arguments.usageError("--calibrate is read only when activations are quantized (the plan's activations, or --activations 8)") }
            return []
        }
        guard let data = request.calibrate else {
            throw arguments.usageError("quantized activations need --calibrate DATA (the inputs their ranges are measured on)")
        }
        return try DataBatches.read(data: data, labelsPath: nil, preprocess: try PreprocessOptions.spec(arguments, input: loaded.input),
                                    skipBad: request.skipBad, arguments, model: loaded, batch: request.batch, threads: threads,
                                    maxInputs: request.maxInputs).map(\.input)
    }

    static func printSummary(_ result: QuantizeRun.Result, loaded: LoadedModel, original: ONNXModel, fileBytes: Int, output: String, console: Console) throws {
        let before = try CountReport(model: loaded, onnx: original, batch: 1).cost
        let after: ModelCost
        do {
            after = try result.imported.cost(batch: 1, storedBytes: ParameterBytes.stored(result.imported, model: result.model))
        } catch { throw CLIError.internal("the quantized model: \(error)") }
        let bits = Dictionary(grouping: result.weights, by: \.bits).sorted { $0.key > $1.key }
            .map { "\($0.value.count) at \($0.key) bits" }.joined(separator: ", ")
        let activations = result.activations.isEmpty ? "activations float" : "\(result.activations.count) activations uint8 (calibrated on \(result.calibrationBatches) batches)"
        console.print("quantized \(result.weights.count) weight tensors (\(bits)), \(activations): \(output)")
        var table = TextTable(headers: ["", "before", "after", "kept"], alignments: [.left, .right, .right, .right])
        table.rows = [
            ["params", NumberText.grouped(before.params), NumberText.grouped(after.params), PruneCommand.percent(after.params, before.params)],
            ["weight bytes", NumberText.grouped(before.bytes), NumberText.grouped(after.bytes), PruneCommand.percent(after.bytes, before.bytes)],
        ]
        console.output.write(table.rendered())
        console.print("file: \(NumberText.grouped(fileBytes)) bytes")
    }
}
