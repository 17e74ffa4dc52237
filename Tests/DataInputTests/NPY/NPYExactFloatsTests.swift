import DataInput
import XCTest

/// float64, int64 and int32 `.npy` data fed to a float32 model: taken only when every value is
/// exactly a float32, else refused naming the element and the fix; overflow is named as such.
final class NPYExactFloatsTests: XCTestCase {
    func testExactValuesConvert() throws {
        let doubles: [Double] = [0, -1.5, 255, 0.25, Double(Float.greatestFiniteMagnitude), -.infinity]
        XCTAssertEqual(try NPYArray(shape: [1, 6], storage: .float64(doubles)).exactFloats(), doubles.map { Float($0) })
        XCTAssertEqual(try NPYArray(shape: [2], storage: .int64([16_777_216, -3])).exactFloats(), [16_777_216, -3])
        XCTAssertEqual(try NPYArray(shape: [2], storage: .int32([7, 1 << 30])).exactFloats(), [7, Float(1 << 30)])
        XCTAssertTrue(try NPYArray(shape: [1], storage: .float64([.nan])).exactFloats()[0].isNaN)
    }

    func testInexactFloat64NamesTheElementAndTheFix() {
        let array = NPYArray(shape: [2, 1, 2, 2], storage: .float64([0, 0, 0, 0, 0, 0, 0.1, 0]))
        XCTAssertThrowsError(try array.exactFloats(firstItem: 4)) { error in
            let text = "\(error)"
            for fragment in ["data[5, 0, 1, 0]", "float64 value 0.1", "x.astype(np.float32)"] {
                XCTAssertTrue(text.contains(fragment), "missing '\(fragment)' in: \(text)")
            }
        }
    }

    func testOverflowIsAnErrorNotInfinity() {
        let array = NPYArray(shape: [3], storage: .float64([1, -1e39, 2]))
        XCTAssertThrowsError(try array.exactFloats()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("data[1]") && text.contains("beyond float32's range"), text)
        }
    }

    func testLargeIntegersAreRefused() {
        XCTAssertThrowsError(try NPYArray(shape: [2], storage: .int64([1, 16_777_217])).exactFloats()) { error in
            XCTAssertTrue("\(error)".contains("data[1]: int64 value 16777217"), "\(error)")
        }
        XCTAssertThrowsError(try NPYArray(shape: [1], storage: .int32([16_777_217])).exactFloats()) { error in
            XCTAssertTrue("\(error)".contains("int32 value 16777217"), "\(error)")
        }
    }
}
