import NetworkIR
import ONNXFormat
import Pruning

/// Writing a trained graph back into its ONNX file: the constants training changes, by ONNX
/// name, replaced in the original model (everything else — graph, names, opset — untouched).
public enum TrainingExport {
    /// The constants training changes: every trainable parameter, and the running statistics
    /// when BatchNormalization trains.
    public static func changedConstants(_ graph: Graph, parameters: TrainableParameters, runningStatistics: Bool) -> [(name: String, value: ValueID)] {
        var list = parameters.parameters.map { (name: $0.name, value: $0.value) }
        if runningStatistics {
            for slot in parameters.runningStatistics {
                list.append((graph.values[slot.mean].name, slot.mean))
                list.append((graph.values[slot.variance].name, slot.variance))
            }
        }
        return list
    }

    /// Refuses, before any training, a model whose trainable constants are not stored in the file
    /// as the graph sees them (computed from other tensors, or not float32): their trained values
    /// could not be written back. `path` names the file in the error.
    public static func checkWriteBack(graph: Graph, onnx: ONNXModel, path: String) throws(TrainingError) {
        let parameters = TrainableParameters(graph: graph)
        for (name, value) in changedConstants(graph, parameters: parameters, runningStatistics: true) {
            let stored: [Float]?
            do { stored = try onnx.floatConstant(named: name) } catch { throw TrainingError("\(path): \(error)") }
            guard let stored else {
                throw TrainingError("\(path): constant '\(name)' is computed in the model file, not stored: fine-tuned values could not be written back")
            }
            guard stored == graph.constants[value]?.storage else {
                throw TrainingError("\(path): constant '\(name)' is stored in another form than the graph uses: fine-tuned values could not be written back")
            }
        }
    }

    /// `onnx` with the tuner's trained constants written in; with `statistics`, every running
    /// statistic too (recalibrated before training even when BatchNormalization trained frozen).
    public static func export(_ onnx: ONNXModel, trained tuner: FineTuner, statistics: Bool = false) throws -> ONNXModel {
        var values: [String: [Float]] = statistics ? Recalibration.statistics(of: tuner.graph) : [:]
        for (name, value) in changedConstants(tuner.graph, parameters: tuner.parameters, runningStatistics: tuner.settings.trainBatchNorm) {
            if let constant = tuner.graph.constants[value] { values[name] = constant.storage }
        }
        return try onnx.replacingFloatConstants(values)
    }
}
