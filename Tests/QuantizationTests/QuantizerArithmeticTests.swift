import Foundation
import NetworkIR
import Quantization
import TestSupport
import XCTest

/// The scale, zero point and integers WeakSpot's quantizers give equal onnxruntime's
/// (`compute_scale_zp` for unsigned asymmetric activations, `quantize_data` for symmetric int8
/// weights), from Fixtures/calibration/quantizers.json written by
/// Fixtures/scripts/make_quantizer_fixtures.py. Equal means bit for bit: the QDQ file WeakSpot
/// writes and the model it measured must be the same model.
final class QuantizerArithmeticTests: XCTestCase {
    func fixture() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: FixturePaths.path("calibration/quantizers.json")))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func testActivationScaleAndZeroPoint() throws {
        let cases = try XCTUnwrap(try fixture()["activations"] as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 30)
        for c in cases {
            let (rmin, rmax) = (Float(try XCTUnwrap(c["rmin"] as? Double)), Float(try XCTUnwrap(c["rmax"] as? Double)))
            let bits = try XCTUnwrap(c["bits"] as? Int)
            let q = ActivationQuantizer.fakeQuantization(range: (rmin, rmax), bits: bits)
            XCTAssertEqual(q.scale, Float(try XCTUnwrap(c["scale"] as? Double)), "scale of (\(rmin), \(rmax)) at \(bits) bits")
            XCTAssertEqual(q.zeroPoint, Float(try XCTUnwrap(c["zeroPoint"] as? Int)), "zero point of (\(rmin), \(rmax)) at \(bits) bits")
            XCTAssertEqual(q.highest, Float((1 << bits) - 1))
        }
    }

    func testSymmetricInt8Weights() throws {
        let rows = try XCTUnwrap(try fixture()["weights"] as? [[String: Any]])
        XCTAssertGreaterThan(rows.count, 10)
        for (i, row) in rows.enumerated() {
            let values = try XCTUnwrap(row["values"] as? [Double]).map(Float.init)
            let expected = try XCTUnwrap(row["quantized"] as? [Int])
            let q = QuantizedWeights(Tensor(shape: [1, values.count], storage: values), bits: 8, axis: 0)
            XCTAssertEqual(q.scales, [Float(try XCTUnwrap(row["scale"] as? Double))], "row \(i): scale")
            XCTAssertEqual(q.values.map(Int.init), expected, "row \(i): integers")
        }
    }
}
