import ChannelGroups
import Execution
import NetworkIR

/// A graph computing what its quantized model computes, in float: each quantized layer's weight
/// replaced by its dequantized integers (`QuantizedWeights`), and, with activation bits, a
/// fake-quantization node after each quantized layer's per-channel tail, with the scale and zero
/// point its calibrated range gives. Importing the QDQ file `QDQExport` writes gives the same
/// graph (the importer folds weight DequantizeLinear nodes and turns activation Q→DQ pairs into
/// the same fake-quantization nodes).
public enum QuantizedGraph {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// The activations that get fake-quantized under `assignment`: the tail end of each quantized
    /// layer (and of each float-rung layer, `floatLayers`), once each (layers sharing a tail end,
    /// as concatenated branches do not, share one).
    public static func activationValues(_ graph: Graph, assignment: QuantizationAssignment) throws -> [ValueID] {
        try activationLayers(graph, assignment: assignment).map(\.value)
    }

    /// Each quantized activation with the layers whose output it is, in node order.
    public static func activationLayers(_ graph: Graph, assignment: QuantizationAssignment) throws -> [(value: ValueID, layers: [String])] {
        guard assignment.activationBits != nil else { return [] }
        let tails = try graph.channelTails()
        var index: [ValueID: Int] = [:], result: [(value: ValueID, layers: [String])] = []
        for layer in QuantizableLayer.all(in: graph) where assignment.quantizesOutput(of: layer.name) {
            guard let t = tails.first(where: { $0.producer == layer.node }) else { continue }
            if let i = index[t.end] { result[i].layers.append(layer.name); continue }
            index[t.end] = result.count
            result.append((t.end, [layer.name]))
        }
        return result
    }

    /// The calibration method of each quantized activation: its layer's (`layerCalibration`),
    /// else the assignment's. Layers sharing an activation with different methods are refused.
    public static func calibrationMethods(_ graph: Graph, assignment: QuantizationAssignment) throws -> [ValueID: CalibrationMethod] {
        var methods: [ValueID: CalibrationMethod] = [:]
        for (value, layers) in try activationLayers(graph, assignment: assignment) {
            let chosen = Set(layers.map { assignment.layerCalibration[$0] ?? assignment.calibration })
            guard chosen.count == 1 else {
                throw Failure("layers \(layers.map { "'\($0)'" }.joined(separator: ", ")) share the activation '\(graph.values[value].name)' but name different calibrations (\(chosen.map(\.rawValue).sorted().joined(separator: ", ")))")
            }
            methods[value] = chosen.first!
        }
        return methods
    }

    /// `calibrate` with the assignment's method for each of its activations.
    public static func calibrate(_ graph: Graph, assignment: QuantizationAssignment, batches: [Tensor], threads: Int,
                                 progress: (Int) -> Void = { _ in }) throws -> [ValueID: (Float, Float)] {
        let methods = try calibrationMethods(graph, assignment: assignment)
        let values = try activationValues(graph, assignment: assignment)
        return try calibrate(graph, values: values, methods: { methods[$0]! }, batches: batches, threads: threads, progress: progress)
    }

    /// The calibrated range of each value in `values` over `batches`, by the assignment's method.
    /// The ranges are of the float model's activations, as onnxruntime calibrates. `progress` is
    /// told the number of batches done after each one (calibrating a large model takes minutes).
    public static func calibrate(_ graph: Graph, values: [ValueID], method: CalibrationMethod, batches: [Tensor], threads: Int,
                                 progress: (Int) -> Void = { _ in }) throws -> [ValueID: (Float, Float)] {
        try calibrate(graph, values: values, methods: { _ in method }, batches: batches, threads: threads, progress: progress)
    }

    /// The same, each value by its own method.
    public static func calibrate(_ graph: Graph, values: [ValueID], methods: (ValueID) -> CalibrationMethod, batches: [Tensor], threads: Int,
                                 progress: (Int) -> Void = { _ in }) throws -> [ValueID: (Float, Float)] {
        guard !values.isEmpty else { return [:] }
        let plan = try ExecutionPlan(graph: graph, options: ExecutionOptions(threads: threads, observable: Set(values)))
        var calibrators: [ValueID: any ActivationCalibrator] = [:]
        for v in values { calibrators[v] = methods(v).makeCalibrator() }
        for (done, input) in batches.enumerated() {
            defer { progress(done + 1) }
            let out = try plan.run(known: [graph.inputs[0].value: input], outputs: values)
            for v in values {
                guard let t = out[v] else { throw Failure("calibration: '\(graph.values[v].name)' was not computed") }
                calibrators[v]!.add(t.storage)
            }
        }
        return calibrators.mapValues { $0.range() }
    }

    /// `graph` with the assignment applied. `ranges` holds a calibrated range for every value
    /// `activationValues` lists (when activations are quantized).
    public static func build(_ graph: Graph, assignment: QuantizationAssignment, ranges: [ValueID: (Float, Float)]) throws -> Graph {
        var g = graph
        let weights = try QuantizedWeightAssignment(graph, assignment: assignment)
        for entry in weights.entries {
            g.constants[entry.weight] = weights.quantized(entry, in: graph, granularity: assignment.granularity).dequantized
        }
        guard let bits = assignment.activationBits else { return g }
        for v in try activationValues(graph, assignment: assignment) {
            guard let range = ranges[v] else { throw Failure("activation '\(graph.values[v].name)' has no calibrated range") }
            let f = ActivationQuantizer.fakeQuantization(range: range, bits: bits)
            guard g.insertAfter(v, op: .fakeQuantize(f), name: "weakspot.quantize:" + graph.values[v].name, suffix: ":quantized") != nil else {
                throw Failure("activation '\(graph.values[v].name)' has no producer")
            }
        }
        return g
    }
}
