import DataInput
import Foundation
import NetworkIR
import ONNXFormat
import TestSupport
import Training
import XCTest

/// Shared loading for the Training tests.
enum TrainingFixtures {
    static func json(_ relative: String) throws -> [String: Any] {
        let data = try Data(contentsOf: FixturePaths.url(relative))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func floats(_ any: Any?) throws -> [Float] {
        try XCTUnwrap(any as? [Any]).map { Float(try XCTUnwrap(($0 as? NSNumber)?.doubleValue)) }
    }

    static func graph(_ relative: String) throws -> Graph {
        try Importer.importGraph(ONNXModel.load(path: FixturePaths.path(relative)))
    }

    /// The first `count` inputs of a committed .npy batch, flat.
    static func inputs(_ relative: String, count: Int) throws -> (values: [Float], sampleShape: [Int]) {
        let array = try NPYArray.read(path: FixturePaths.path(relative))
        let sample = Array(array.shape.dropFirst())
        let per = sample.reduce(1, *)
        return (Array(try array.floats()[0..<(count * per)]), sample)
    }

    /// A training set of the given inputs at the model's size, no margin.
    static func trainingSet(_ relative: String, count: Int, labels: [Int]?, margin: Int = 0, layout: InputLayout = .nchw) throws -> TrainingSet {
        let (values, sample) = try inputs(relative, count: count)
        return try TrainingSet.reflectPadded(values, count: count, sampleShape: sample, layout: layout, margin: margin, labels: labels)
    }
}
