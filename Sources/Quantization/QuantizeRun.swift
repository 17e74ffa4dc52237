import Execution
import NetworkIR
import ONNXFormat

/// `weakspot quantize` as one library call: calibrate the quantized activations on the float
/// model, build the fake-quantized graph, write it as QDQ ONNX, and read the written model back
/// to check that it is that graph (`QDQCheck`) — so a file that would run differently from what
/// WeakSpot measured is never handed out.
public enum QuantizeRun {
    public struct Result: Sendable {
        /// The QDQ model to write.
        public var model: ONNXModel
        /// `QuantizedGraph.build`'s graph, which `model` imports as.
        public var graph: Graph
        /// `model` imported again (what `count` sees of it).
        public var imported: Graph
        /// The quantized weights (one per tensor, tied layers once) and activations.
        public var weights: [QuantizedWeightAssignment.Entry]
        public var activations: [ValueID]
        /// Calibration batches read (0 without quantized activations).
        public var calibrationBatches: Int
    }

    /// - Parameters:
    ///   - calibration: the calibration inputs, needed when activations are quantized; the first
    ///     batch (or `check` without calibration) is also where the exported model's outputs are
    ///     compared with the fake-quantized graph's.
    ///   - importOptions: how `model` was imported (`--input-shape`), to import the result alike.
    ///   - progress: calibration batches done.
    public static func run(model: ONNXModel, graph: Graph, assignment: QuantizationAssignment, calibration: [Tensor], check: Tensor?,
                           threads: Int, importOptions: ImportOptions, progress: (Int) -> Void = { _ in }) throws -> Result {
        let weights = try QuantizedWeightAssignment(graph, assignment: assignment)
        let activations = try QuantizedGraph.activationValues(graph, assignment: assignment)
        if !activations.isEmpty && calibration.isEmpty {
            throw QuantizationError("quantized activations need calibration inputs (their ranges are measured on them)")
        }
        let ranges = try QuantizedGraph.calibrate(graph, assignment: assignment, batches: calibration, threads: threads, progress: progress)
        let built = try QuantizedGraph.build(graph, assignment: assignment, ranges: ranges)
        let exported = try QDQExport(model: model, graph: graph).exported(assignment, ranges: ranges)
        let imported = try QDQCheck(expected: built, weights: weights.entries.map { graph.values[$0.weight].name },
                     activations: activations.map { graph.values[$0].name })
            .verify(exported, importOptions: importOptions, input: calibration.first ?? check, threads: threads)
        return Result(model: exported, graph: built, imported: imported, weights: weights.entries, activations: activations,
                      calibrationBatches: activations.isEmpty ? 0 : calibration.count)
    }
}
