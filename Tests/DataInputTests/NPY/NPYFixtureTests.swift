import DataInput
import Foundation
import TestSupport
import XCTest

/// Files written by numpy (Fixtures/scripts/make_preprocess_fixtures.py) read back with the
/// values numpy wrote, and re-encoded byte for byte.
final class NPYFixtureTests: XCTestCase {
    func read(_ name: String) throws -> NPYArray { try NPYArray.read(path: FixturePaths.path("npy/\(name)")) }

    func testEveryDTypeReadsNumpysValuesAndReencodesIdentically() throws {
        let f32 = try read("f32_2x3.npy")
        XCTAssertEqual(f32.dtype, .float32)
        XCTAssertEqual(f32.shape, [2, 3])
        XCTAssertEqual(f32.floats().map(\.bitPattern),
                       [1.5, -2.25, 3e-8, Float.infinity, -0.0, 65504].map(\.bitPattern))

        let f64 = try read("f64_4.npy")
        XCTAssertEqual(f64.storage, .float64([1.0 / 3, -1e300, 2.5, Double.pi]))

        let i64 = try read("i64_2x2x2.npy")
        XCTAssertEqual(i64.shape, [2, 2, 2])
        XCTAssertEqual(i64.int64s(), [0, -1, 1 << 40, -(1 << 62), 7, 8, 9, 10])

        let i32 = try read("i32_5.npy")
        XCTAssertEqual(i32.storage, .int32([0, -1, .max, .min, 42]))
        XCTAssertEqual(i32.int64s(), [0, -1, 2_147_483_647, -2_147_483_648, 42])

        let u8 = try read("u8_3x4x3.npy")
        XCTAssertEqual(u8.dtype, .uint8)
        XCTAssertEqual(u8.shape, [3, 4, 3])
        XCTAssertEqual(u8.uint8s().count, 36)

        let scalar = try read("f32_scalar.npy")
        XCTAssertEqual(scalar.shape, [])
        XCTAssertEqual(scalar.floats(), [2.5])

        let empty = try read("f32_empty_0x3.npy")
        XCTAssertEqual(empty.shape, [0, 3])
        XCTAssertEqual(empty.count, 0)

        for name in ["f32_2x3.npy", "f64_4.npy", "i64_2x2x2.npy", "i32_5.npy", "u8_3x4x3.npy",
                     "f32_scalar.npy", "f32_empty_0x3.npy", "labels_i64_5.npy", "f32_3x4_v1.npy"] {
            let bytes = try FixturePaths.data("npy/\(name)")
            XCTAssertEqual(try NPYArray.decode(bytes).encoded(), bytes, "\(name): not numpy's bytes")
        }
    }

    func testHeaderVersionsOneTwoThreeReadTheSameArray() throws {
        let arrays = try ["f32_3x4_v1.npy", "f32_3x4_v2.npy", "f32_3x4_v3.npy"].map(read)
        XCTAssertEqual(arrays[0].shape, [3, 4])
        XCTAssertEqual(arrays[0].floats(), (0..<12).map { Float($0) / 7 })
        XCTAssertEqual(arrays[1], arrays[0])
        XCTAssertEqual(arrays[2], arrays[0])
    }

    func testBigEndianIsConverted() throws {
        XCTAssertEqual(try read("f32_big_endian_1x3.npy").floats(), [1, -2, 3.5])
        XCTAssertEqual(try read("i64_big_endian_3.npy").int64s(), [1, -2, 1 << 50])
    }

    func testFortranOrderIsRefusedNamingTheFile() {
        XCTAssertThrowsError(try read("f32_fortran_2x3.npy")) { error in
            let e = error as? NPYError
            XCTAssertEqual(e?.kind, .unsupported)
            XCTAssertTrue("\(error)".contains("f32_fortran_2x3.npy"), "\(error)")
            XCTAssertTrue("\(error)".contains("fortran_order"), "\(error)")
        }
    }

    func testRoundTripThroughFilesForEveryDType() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("npy-roundtrip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let arrays: [NPYArray] = [
            NPYArray(shape: [2, 2], storage: .float32([1, -0.5, .nan, 3e38])),
            NPYArray(shape: [3], storage: .float64([1e-310, -2, 7])),
            NPYArray(shape: [1, 2], storage: .int64([.min, .max])),
            NPYArray(shape: [2, 1, 1], storage: .int32([-7, 9])),
            NPYArray(shape: [2, 2, 3], storage: .uint8((0..<12).map { UInt8($0 * 20) })),
            NPYArray(shape: [], storage: .float32([4])),
            NPYArray(shape: [0], storage: .int64([])),
        ]
        for (i, array) in arrays.enumerated() {
            let path = folder.appendingPathComponent("a\(i).npy").path
            try array.write(path: path)
            let back = try NPYArray.read(path: path)
            XCTAssertEqual(back.shape, array.shape)
            XCTAssertEqual(back.dtype, array.dtype)
            XCTAssertEqual(back.encoded(), array.encoded())
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".tmp") }
        XCTAssertEqual(leftovers, [], "atomic write left temporary files")
    }

    func testStreamingReaderReadsItemRanges() throws {
        let reader = try NPYFileReader(path: FixturePaths.path("npy/i64_2x2x2.npy"))
        XCTAssertEqual(reader.items, 2)
        XCTAssertEqual(reader.itemCount, 4)
        XCTAssertEqual(try reader.read(items: 1..<2).int64s(), [7, 8, 9, 10])
        XCTAssertEqual(try reader.read(items: 0..<2).shape, [2, 2, 2])
        XCTAssertThrowsError(try reader.read(items: 1..<3))
    }
}
