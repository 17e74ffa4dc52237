import DataInput
import Execution
import Foundation
import NetworkIR
import ONNXFormat
import TestSupport

/// Loading committed models and arrays for the execution tests.
enum ModelFixtures {
    static func graph(_ relative: String, options: ImportOptions = .init()) throws -> Graph {
        let model = try ONNXModel.load(path: FixturePaths.path(relative))
        return try Importer.importGraph(model, options: options)
    }

    static func tensor(_ relative: String) throws -> Tensor {
        let array = try NPYArray.read(path: FixturePaths.path(relative))
        return Tensor(shape: array.shape, storage: array.floats())
    }
}
