import Foundation
import TestSupport
import XCTest

/// Hostile QDQ models (Fixtures/qdq/hostile_*.onnx, made by make_qdq_fixtures.py; also seeds of the
/// graph fuzz target) are refused by every command that reads a model, with exit code 2 and a
/// message naming the file and the node (or, for a value its type cannot hold, the tensor).
final class QDQRefusalTests: XCTestCase {
    static let cases: [(file: String, place: String, what: String)] = [
        ("hostile_zero_scale", "node dq_w (DequantizeLinear)", "scale element 0 is 0.0"),
        ("hostile_negative_scale", "node dq_w (DequantizeLinear)", "scale element 0 is -0.1"),
        ("hostile_nan_scale", "node dq_w (DequantizeLinear)", "scale element 0 is nan"),
        ("hostile_scale_not_matching_axis", "node dq_w (DequantizeLinear)", "scale has 3 elements, but axis 0 of x [4, 3, 3, 3] has 4"),
        ("hostile_zero_point_shape", "node dq_w (DequantizeLinear)", "zero point shape [2] does not match scale shape [4]"),
        ("hostile_zero_point_out_of_range", "tensor 'w_zp'", "value 300 out of uint8 range"),
        ("hostile_lone_quantize", "graph output 'y'", "integer output of a QuantizeLinear"),
        ("hostile_activation_zero_scale", "node q_r (QuantizeLinear)", "scale element 0 is 0.0"),
        ("hostile_activation_negative_scale", "node dq_r (DequantizeLinear)", "scale element 0 is -0.05"),
        ("hostile_activation_zero_point_out_of_range", "tensor 'q_zp'", "value 300 out of uint8 range"),
        ("hostile_activation_zero_point_type_mismatch", "node dq_r (DequantizeLinear)", "zero point -5.0 is outside uint8's range"),
        ("hostile_activation_per_axis_scale", "node q_r (QuantizeLinear)", "per axis (scale shape [4]) is not supported"),
        ("hostile_activation_zero_point_shape", "node q_r (QuantizeLinear)", "zero point shape [2] does not match scale shape []"),
    ]

    func testEveryHostileModelIsRefusedNamingThePlace() throws {
        let committed = try FileManager.default.contentsOfDirectory(atPath: FixturePaths.path("qdq")).filter { $0.hasPrefix("hostile_") }
        XCTAssertEqual(Set(committed), Set(Self.cases.map { $0.file + ".onnx" }), "every hostile fixture has a case here")
        let output = try temporaryFolder(self) + "/q.onnx"
        for (file, place, what) in Self.cases {
            let path = FixturePaths.path("qdq/\(file).onnx")
            for command in [["count", path], ["run", path, "--data", "synthetic:1"], ["quantize", path, "--bits", "8", "-o", output]] {
                let result = weakspot(command)
                XCTAssertEqual(result.code, 2, "\(command[0]) \(file): \(result.error)")
                XCTAssertTrue(result.error.hasPrefix("error: \(path): "), "\(command[0]) \(file): \(result.error)")
                XCTAssertTrue(result.error.contains(place), "\(command[0]) \(file): expected '\(place)' in \(result.error)")
                XCTAssertTrue(result.error.contains(what), "\(command[0]) \(file): expected '\(what)' in \(result.error)")
                XCTAssertEqual(result.output, "", "\(command[0]) \(file)")
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: output), "\(file): a refused model left an output")
        }
    }
}
