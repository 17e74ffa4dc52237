import Execution
import Foundation
import NetworkIR
import TestSupport
import XCTest

/// QuantizeLinear / DequantizeLinear (Fixtures/qdq, made by make_qdq_fixtures.py): of constant
/// weights, folded at import; on activations, Q → DQ pairs run as fake quantization. Outputs
/// equal ONNX Runtime's (run with graph optimisations off, so that Q/DQ run as the ONNX
/// operators), rounding is half to even with saturation, quantized exports count their weights,
/// and hostile parameters are refused naming the node.
final class QuantizeDequantizeTests: XCTestCase {
    func outputs(_ name: String, input: String = "input") throws -> (got: Tensor, expected: Tensor) {
        let graph = try ModelFixtures.graph("qdq/\(name).onnx")
        let plan = try ExecutionPlan(graph: graph, options: ExecutionOptions(threads: 2))
        return (try plan.run(try ModelFixtures.tensor("qdq/\(input).npy"))[0], try ModelFixtures.tensor("qdq/\(name).output.npy"))
    }

    /// Every input is on a .5 boundary of the scale or beyond the type's range: a different
    /// rounding or no saturation changes outputs by a whole step, so equality is exact.
    func testActivationPairsAreBitExact() throws {
        for name in ["qdq_activation_int8", "qdq_activation_uint8"] {
            let (got, expected) = try outputs(name, input: "\(name).input")
            XCTAssertEqual(got.shape, [4, 2, 4, 4], name)
            XCTAssertEqual(expected.storage.count, 128, name)
            XCTAssertNil(mismatch(got.storage, expected.storage, .exact), name)
        }
    }

    /// onnxruntime's quantize_static output (per-channel int8 weights, uint8 activations).
    func testStaticQuantizedCNNEqualsONNXRuntime() throws {
        let (got, expected) = try outputs("qdq_static_cnn")
        XCTAssertEqual(got.shape, [3, 4])
        XCTAssertNil(mismatch(got.storage, expected.storage, .relativeToPeak(1e-5)))
    }

    func testDequantizedWeightsEqualONNXRuntime() throws {
        for name in ["dq_per_tensor_uint8", "dq_per_channel_int8", "qdq_weight_half_even", "qdq_weights_cnn"] {
            let (got, expected) = try outputs(name)
            XCTAssertEqual(got.shape, expected.shape, name)
            XCTAssertGreaterThan(expected.storage.count, 0, name)
            XCTAssertNil(mismatch(got.storage, expected.storage, .relativeToPeak(1e-5)), name)
        }
    }

    /// Every weight element lies exactly halfway between two quantization steps, some beyond
    /// int8's range: the folded weight must be numpy's rint (half to even) with saturation.
    func testRoundingIsHalfToEvenWithSaturation() throws {
        let graph = try ModelFixtures.graph("qdq/qdq_weight_half_even.onnx")
        let expected = try ModelFixtures.tensor("qdq/qdq_weight_half_even.weight.npy")
        let conv = try XCTUnwrap(graph.nodes.first { $0.name == "conv" })
        let weight = try XCTUnwrap(graph.constants[conv.inputs[1]])
        XCTAssertEqual(weight.shape, [4, 3, 3, 3])
        XCTAssertNil(mismatch(weight.storage, expected.storage, .exact))
    }

    func testQuantizedExportCountsItsWeights() throws {
        let graph = try ModelFixtures.graph("qdq/qdq_weights_cnn.onnx")
        let text = try String(contentsOfFile: FixturePaths.path("qdq/qdq_weights_cnn.params.txt"), encoding: .utf8)
        let params = try XCTUnwrap(Int(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        XCTAssertEqual(params, 3 * 8 * 9 + 8 + 8 * 8 * 9 + 8 + 8 * 4 + 4)
        XCTAssertEqual(try graph.cost(batch: 1).params, params)
    }


    func testHostileParametersAreRefusedNamingTheNode() {
        let cases: [(String, String)] = [
            ("zero_scale", "scale element 0 is 0.0"), ("negative_scale", "scale element 0 is -0.1"),
            ("nan_scale", "scale element 0 is nan"), ("scale_not_matching_axis", "scale has 3 elements, but axis 0 of x [4, 3, 3, 3] has 4"),
            ("zero_point_shape", "zero point shape [2] does not match scale shape [4]"), ("zero_point_out_of_range", "out of uint8 range"),
            ("lone_quantize", "graph output 'y' is the integer output of a QuantizeLinear"),
        ]
        for (name, fragment) in cases {
            XCTAssertThrowsError(try ModelFixtures.graph("qdq/hostile_\(name).onnx"), name) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains(fragment), "\(name): missing '\(fragment)' in: \(text)")
                if !["zero_point_out_of_range", "lone_quantize"].contains(name) { XCTAssertTrue(text.contains("dq_w (DequantizeLinear)"), "\(name): \(text)") }
            }
        }
    }
}
