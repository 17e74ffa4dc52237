import DataInput
import Foundation
import TestSupport
import XCTest

/// Streams written by Python's zlib inflate to exactly their input, with and without a known size;
/// limits are enforced.
final class ZlibInflaterTests: XCTestCase {
    struct Stream: Decodable { var file: String; var raw: String; var size: Int }

    func streams() throws -> [Stream] {
        try JSONDecoder().decode([Stream].self, from: Data(contentsOf: FixturePaths.url("png/zlib_manifest.json")))
    }

    func testStreamsInflateToPythonsInput() throws {
        let all = try streams()
        XCTAssertEqual(all.count, 5)
        for stream in all {
            let compressed = try FixturePaths.data("png/" + stream.file)
            let expected = try FixturePaths.data("png/" + stream.raw)
            XCTAssertEqual(try ZlibInflater.inflate(compressed, expectedSize: nil, maxSize: 1 << 20), expected, stream.file)
            XCTAssertEqual(try ZlibInflater.inflate(compressed, expectedSize: expected.count, maxSize: 1 << 20), expected, stream.file)
        }
    }

    func testLimitsAndExpectedSizeAreEnforced() throws {
        let compressed = try FixturePaths.data("png/zlib_runs_level1.zz")
        let size = try FixturePaths.data("png/zlib_runs_level1.raw").count
        XCTAssertThrowsError(try ZlibInflater.inflate(compressed, expectedSize: nil, maxSize: size - 1)) { error in
            XCTAssertEqual((error as? ImageDecodingError).map { pngErrorKindName($0.kind) }, "tooLarge", "\(error)")
        }
        XCTAssertThrowsError(try ZlibInflater.inflate(compressed, expectedSize: size - 1, maxSize: size)) { error in
            XCTAssertEqual((error as? ImageDecodingError).map { pngErrorKindName($0.kind) }, "corrupt", "\(error)")
        }
        XCTAssertThrowsError(try ZlibInflater.inflate(compressed, expectedSize: size + 1, maxSize: size + 1)) { error in
            XCTAssertEqual((error as? ImageDecodingError).map { pngErrorKindName($0.kind) }, "truncated", "\(error)")
        }
        XCTAssertThrowsError(try ZlibInflater.inflate(compressed, expectedSize: size, maxSize: size - 1))
    }

    func testTruncatedStreamsThrow() throws {
        let compressed = try FixturePaths.data("png/zlib_text_level9.zz")
        for length in Array(0..<600) + Array(stride(from: 600, to: compressed.count, by: 7)) {
            XCTAssertThrowsError(try ZlibInflater.inflate(Array(compressed[0..<length]), expectedSize: nil, maxSize: 1 << 20),
                                 "cut at \(length)")
        }
    }
}
