import Execution
import NetworkIR
import ONNXFormat

/// The check that a written QDQ model is the fake-quantized graph WeakSpot measured: imported
/// again, each quantized weight must be bit for bit the dequantized weight, each activation pair
/// the same fake quantization, and the outputs on an input bit for bit the same. A difference is
/// a bug in the export, never the user's input, so it is an internal error.
struct QDQCheck {
    typealias Mismatch = QDQCheckFailure

    var expected: Graph
    /// Names of the quantized weights and activations (the same in both graphs).
    var weights: [String]
    var activations: [String]

    /// The exported model as imported, after the checks.
    func verify(_ model: ONNXModel, importOptions: ImportOptions, input: Tensor?, threads: Int) throws -> Graph {
        let got: Graph
        do { got = try Importer.importGraph(model, options: importOptions) } catch {
            throw Mismatch(description: "the exported QDQ model does not import: \(error)")
        }
        for name in weights {
            guard let a = expected.value(named: name).flatMap({ expected.constants[$0] }),
                  let b = got.value(named: name).flatMap({ got.constants[$0] }) else {
                throw Mismatch(description: "weight '\(name)' is not a constant of the exported model")
            }
            guard a.shape == b.shape, a.storage.map(\.bitPattern) == b.storage.map(\.bitPattern) else {
                throw Mismatch(description: "weight '\(name)' reads back differently from the exported model")
            }
        }
        for name in activations {
            let quantizer = got.nodes.first { node in
                if case .fakeQuantize = node.op { return node.outputs.contains { got.values[$0].name == name } }
                return false
            }
            guard let quantizer, case .fakeQuantize(let f) = quantizer.op else {
                throw Mismatch(description: "activation '\(name)' has no QuantizeLinear → DequantizeLinear pair in the exported model")
            }
            // In the measured graph the pair reads the activation; in the file it carries its name.
            let want = expected.nodes.first { node in
                if case .fakeQuantize = node.op { return expected.values[node.inputs[0]].name == name }
                return false
            }
            guard let want, case .fakeQuantize(let e) = want.op, e == f else {
                throw Mismatch(description: "activation '\(name)': the exported pair quantizes differently from the measured graph")
            }
        }
        guard let input else { return got }
        let a = try ExecutionPlan(graph: expected, options: ExecutionOptions(threads: threads)).run(input)
        let b = try ExecutionPlan(graph: got, options: ExecutionOptions(threads: threads)).run(input)
        guard a.count == b.count, zip(a, b).allSatisfy({ $0.shape == $1.shape && $0.storage.map(\.bitPattern) == $1.storage.map(\.bitPattern) }) else {
            throw Mismatch(description: "the exported QDQ model's outputs differ from the fake-quantized graph's on the first input batch")
        }
        return got
    }
}

/// A written QDQ model that does not read back as the measured graph: a bug in the export
/// (exit code 3), never the user's input.
public struct QDQCheckFailure: Error, CustomStringConvertible, Sendable {
    public var description: String
}
