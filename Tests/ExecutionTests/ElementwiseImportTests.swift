import Execution
import Foundation
import NetworkIR
import ONNXFormat
import TestSupport
import XCTest

/// The graph fuzz seeds of make_ops_elementwise.py (Fixtures/fuzz/graph/ew_*.onnx): each broken
/// seed is refused with a GraphError that names what was expected, the valid ones import and run.
/// Also the exact float32 edge values of the element-wise functions.
final class ElementwiseImportTests: XCTestCase {
    static let refusals: [String: String] = [
        "ew_bad_elu_alpha_string": "attribute 'alpha': expected a float",
        "ew_bad_gelu_approximate": "attribute 'approximate': expected \"none\" or \"tanh\"",
        "ew_bad_celu_alpha_zero": "Celu divides by alpha",
        "ew_bad_selu_gamma_ints": "attribute 'gamma': expected a float",
        "ew_bad_prelu_missing_slope": "PRelu needs a slope",
        "ew_bad_prelu_runtime_slope": "PRelu slope (input 1) must be a constant",
        "ew_bad_prelu_slope_shape": "do not broadcast",
        "ew_bad_softmax_axis": "attribute 'axis': 4 out of range for rank 4",
        "ew_bad_logsoftmax_scalar": "LogSoftmax of a scalar",
        "ew_bad_sum_opset6_shapes": "Sum before opset 8 needs inputs of one shape",
        "ew_bad_max_no_inputs": "missing input 0",
        "ew_bad_pow_runtime_exponent": "Pow exponent (input 1) must be a constant",
        "ew_bad_exp_missing_input": "missing input 0",
    ]

    func testBrokenSeedsAreRefusedByName() throws {
        let folder = FixturePaths.path("fuzz/graph")
        let seeds = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix("ew_bad_") }.sorted()
        XCTAssertEqual(Set(seeds.map { String($0.dropLast(5)) }), Set(Self.refusals.keys))
        for seed in seeds {
            let expected = try XCTUnwrap(Self.refusals[String(seed.dropLast(5))])
            XCTAssertThrowsError(try ModelFixtures.graph("fuzz/graph/" + seed), seed) { error in
                XCTAssertTrue(error is GraphError, "\(seed): \(error)")
                XCTAssertTrue("\(error)".contains(expected), "\(seed): \(error)")
                XCTAssertTrue("\(error)".hasPrefix("node "), "\(seed): the message names the node: \(error)")
            }
        }
    }

    func run(_ seed: String) throws -> (Graph, Tensor) {
        let graph = try ModelFixtures.graph("fuzz/graph/\(seed).onnx")
        let x = Tensor(shape: [2, 3, 4, 4], storage: (0..<96).map { Float(($0 * 29) % 53) / 13 - 2 })
        let out = try ExecutionPlan(graph: graph, options: ExecutionOptions(threads: 1)).run(known: [graph.inputs[0].value: x], outputs: graph.outputs)
        return (graph, try XCTUnwrap(out[graph.outputs[0]]))
    }

    /// Before opset 13 Softmax's row is every axis from `axis` (default 1) on: 3·4·4 values per image.
    func testLegacySoftmaxIsOneDistributionPerImage() throws {
        let (graph, y) = try run("ew_valid_legacy_softmax")
        XCTAssertTrue(graph.nodes.contains { $0.op == .softmaxFamily(SoftmaxFamily(kind: .softmax, axis: 1, coercedTo2D: true)) })
        XCTAssertEqual(y.shape, [2, 3, 4, 4])
        for n in 0..<2 {
            let row = y.storage[(n * 48)..<((n + 1) * 48)]
            XCTAssertEqual(row.reduce(0.0) { $0 + Double($1) }, 1, accuracy: 1e-5)
            XCTAssertTrue(row.allSatisfy { $0 > 0 })
        }
    }

    /// Hardmax at opset 13 along axis 1 alone: one 1 per (image, row, column) across the channels.
    func testHardmaxAlongOneAxisIsOneHot() throws {
        let (_, y) = try run("ew_valid_prelu_gelu_sum")
        XCTAssertEqual(y.shape, [2, 3, 4, 4])
        for n in 0..<2 {
            for i in 0..<16 {
                let column = (0..<3).map { y.storage[(n * 3 + $0) * 16 + i] }
                XCTAssertEqual(column.sorted(), [0, 0, 1], "image \(n), position \(i)")
            }
        }
    }

    /// Beyond float32's range the functions give what ONNX Runtime's float32 kernels give
    /// (±infinity from the model's own arithmetic), and no intermediate overflows where the
    /// result is representable.
    func testFloat32EdgeValuesAreExact() {
        XCTAssertEqual(UnaryFunction.exp(89), .infinity)
        XCTAssertEqual(UnaryFunction.exp(88), Float(Foundation.exp(88.0)))
        XCTAssertEqual(UnaryFunction.softplus(200), 200)
        XCTAssertEqual(UnaryFunction.softplus(-200), Float(Foundation.exp(-200.0)))
        XCTAssertEqual(UnaryFunction.mish(200), 200)
        XCTAssertEqual(UnaryFunction.log(0), -.infinity)
        XCTAssertEqual(UnaryFunction.reciprocal(0), .infinity)
        XCTAssertTrue(UnaryFunction.sqrt(-1).isNaN)
        XCTAssertEqual(UnaryFunction.power(2)(3e19), .infinity)
        XCTAssertEqual(UnaryFunction.gelu(tanhApproximation: false)(-40), -0.0)
        XCTAssertEqual(UnaryFunction.selu(alpha: UnaryFunction.seluAlpha, gamma: UnaryFunction.seluGamma)(-100),
                       -UnaryFunction.seluAlpha * UnaryFunction.seluGamma, accuracy: 1e-6)
    }

    /// Max/Min of constants fold at import over every operand (1…N), not just the first two.
    func testVariadicMaxMinOfConstantsFoldOverEveryOperand() throws {
        for (op, expected) in [("Max", [Float](arrayLiteral: 3, 7, 9)), ("Min", [-2, 0, -1])] {
            let constants = [[1, 5, -1], [3, 0, 4], [-2, 7, 9]].enumerated().map { i, v in
                ONNXTensor(name: "c\(i)", floats: v.map(Float.init), dims: [3])
            }
            let model = ONNXModel(graph: ONNXGraph(
                name: "g", nodes: [
                    ONNXNode(name: "m", opType: op, inputs: ["c0", "c1", "c2"], outputs: ["m"]),
                    ONNXNode(name: "add", opType: "Add", inputs: ["x", "m"], outputs: ["y"]),
                ], initializers: constants,
                inputs: [ONNXValueInfo(name: "x", elementType: .float, shape: [.symbolic("N"), .value(3)])],
                outputs: [ONNXValueInfo(name: "y", elementType: .float)]))
            let graph = try Importer.importGraph(try ONNXModel.decode(model.encoded(), externalDataDirectory: nil))
            let x = Tensor(shape: [1, 3], storage: [0, 0, 0])
            let y = try ExecutionPlan(graph: graph, options: ExecutionOptions(threads: 1)).run(known: [graph.inputs[0].value: x], outputs: graph.outputs)
            XCTAssertEqual(y[graph.outputs[0]]?.storage, expected, op)
        }
    }
}
