import DataInput
import Execution
import NetworkIR
import ONNXFormat
import Quantization
import TestSupport
import XCTest

/// Fixture models and the steps every export test repeats: calibrate, build, export, read back.
enum QuantizationFixtures {
    static func model(_ relative: String) throws -> (ONNXModel, Graph) {
        let model = try ONNXModel.load(path: FixturePaths.path(relative))
        return (model, try Importer.importGraph(model))
    }

    static func tensor(_ relative: String) throws -> Tensor {
        let array = try NPYArray.read(path: FixturePaths.path(relative))
        return Tensor(shape: array.shape, storage: array.floats())
    }

    /// Every quantizable layer at `bits(index)` bits.
    static func assignment(_ graph: Graph, bits: (Int) -> Int, granularity: QuantizationGranularity = .channel,
                           activations: Int? = nil) -> QuantizationAssignment {
        let layers = QuantizableLayer.all(in: graph)
        return QuantizationAssignment(weightBits: Dictionary(uniqueKeysWithValues: layers.enumerated().map { ($1.name, bits($0)) }),
                                      granularity: granularity, activationBits: activations)
    }

    /// The exported model encoded to bytes and decoded again, as a file written and read would be.
    static func roundTrip(_ model: ONNXModel) throws -> ONNXModel {
        try ONNXModel.decode(model.encoded(), externalDataDirectory: nil)
    }

    static func outputs(_ graph: Graph, _ input: Tensor) throws -> [Float] {
        try ExecutionPlan(graph: graph, options: ExecutionOptions(threads: 2)).run(input)[0].storage
    }
}
