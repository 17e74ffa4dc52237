import DataInput
import Foundation
import TestSupport
import XCTest

/// Hostile and damaged input: every case must throw an `ImageDecodingError` or decode, never
/// crash, hang or allocate from an unchecked size. Inputs are derived from committed fixtures
/// with a seeded generator, so a failure reproduces.
final class JPEGRobustnessTests: XCTestCase {
    /// SplitMix64: a tiny seeded generator so failures reproduce on every platform.
    struct JPEGTestRandom {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    private func fixture(_ name: String) throws -> [UInt8] { try FixturePaths.data("jpeg/" + name) }

    /// Decodes, accepting success or a thrown ImageDecodingError; returns the error kind if any.
    @discardableResult
    private func attempt(_ bytes: [UInt8], limits: ImageLimits = ImageLimits()) -> ImageDecodingError.Kind? {
        do {
            let image = try JPEGDecoder.decode(bytes, limits: limits)
            XCTAssertEqual(image.pixels.count, image.width * image.height * image.channels)
            return nil
        } catch {
            XCTAssertFalse(error.reason.isEmpty)
            return error.kind
        }
    }

    func testTruncationAtEveryOffsetOfSmallFiles() throws {
        for name in ["chelsea61x43_b_q75_420.jpg", "chelsea61x43_p_q75_422.jpg", "camera61x43_p_q90_grey.jpg",
                     "chelsea61x43_b_q75_420_restart_blocks1.jpg", "chelsea61x43_b_q90_440.jpg"] {
            let bytes = try fixture(name)
            var kinds: [String: Int] = [:]
            for length in 0..<bytes.count {
                let kind = attempt(Array(bytes[0..<length]))
                kinds["\(kind.map { "\($0)" } ?? "decoded")", default: 0] += 1
            }
            // Cut anywhere before the last scan's data is complete, the file cannot decode.
            XCTAssertGreaterThan(kinds["truncated"] ?? 0, bytes.count / 2, "\(name): \(kinds)")
        }
    }

    func testTruncationWithStrideOfLargerFiles() throws {
        for name in ["coffee500x400_b_q75_420.jpg", "astronaut497x403_p_q90_422.jpg"] {
            let bytes = try fixture(name)
            var length = 0
            while length < bytes.count {
                attempt(Array(bytes[0..<length]))
                length += 997
            }
        }
    }

    func testMissingFinalEOIOnlyDecodesSequentialFiles() throws {
        let sequential = try fixture("chelsea61x43_b_q90_420.jpg")
        XCTAssertEqual(Array(sequential.suffix(2)), [0xFF, 0xD9])
        let full = try JPEGDecoder.decode(sequential, limits: ImageLimits())
        let withoutEOI = try JPEGDecoder.decode(Array(sequential.dropLast(2)), limits: ImageLimits())
        XCTAssertEqual(full, withoutEOI)

        let progressive = try fixture("chelsea61x43_p_q90_420.jpg")
        XCTAssertEqual(attempt(Array(progressive.dropLast(2))), .truncated)
        XCTAssertEqual(attempt(Array(sequential.dropLast(40))), .truncated)
    }

    func testSeededRandomBytes() {
        var random = JPEGTestRandom(state: 42)
        for trial in 0..<300 {
            let count = random.below(2048)
            var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if trial % 2 == 0 { bytes = [0xFF, 0xD8] + bytes }
            XCTAssertNotNil(attempt(bytes))
        }
    }

    func testRandomCorruptionsOfEntropyData() throws {
        var random = JPEGTestRandom(state: 7)
        for name in ["chelsea61x43_b_q75_420.jpg", "chelsea61x43_p_q75_422.jpg", "chelsea61x43_p_q75_422_restart_rows1.jpg",
                     "astronaut17x9_p_q90_420.jpg", "camera61x43_b_q75_grey_restart3.jpg"] {
            let bytes = try fixture(name)
            guard let sos = firstScanData(bytes) else {
                XCTFail("\(name): no scan")
                continue
            }
            for _ in 0..<200 {
                var damaged = bytes
                for _ in 0..<(1 + random.below(8)) {
                    let at = sos + random.below(bytes.count - 2 - sos)
                    damaged[at] = UInt8(truncatingIfNeeded: random.next())
                }
                attempt(damaged)
            }
        }
    }

    func testRandomCorruptionsOfHeaders() throws {
        var random = JPEGTestRandom(state: 11)
        let bytes = try fixture("chelsea61x43_p_q75_420.jpg")
        let headerEnd = firstScanData(bytes) ?? 600
        for _ in 0..<1000 {
            var damaged = bytes
            damaged[2 + random.below(headerEnd - 2)] = UInt8(truncatingIfNeeded: random.next())
            attempt(damaged)
        }
    }

    func testHugeDeclaredSizeIsRefusedBeforeAllocation() throws {
        var bytes = try fixture("chelsea61x43_b_q75_420.jpg")
        let sof = try XCTUnwrap(markerOffset(0xC0, in: bytes))
        bytes[sof + 5] = 0xFF; bytes[sof + 6] = 0xFF // height
        bytes[sof + 7] = 0xFF; bytes[sof + 8] = 0xFF // width
        do {
            _ = try JPEGDecoder.decode(bytes, limits: ImageLimits())
            XCTFail("decoded a 65535x65535 header")
        } catch {
            XCTAssertEqual(error.kind, .tooLarge)
            XCTAssertTrue(error.reason.contains("--max-pixels"), error.reason)
        }
        // A tighter limit applies to an ordinary file too.
        XCTAssertEqual(attempt(try fixture("chelsea61x43_b_q75_420.jpg"), limits: ImageLimits(maxPixels: 1000)), .tooLarge)
    }

    func testZeroDimensionIsCorrupt() throws {
        var bytes = try fixture("chelsea61x43_b_q75_420.jpg")
        let sof = try XCTUnwrap(markerOffset(0xC0, in: bytes))
        bytes[sof + 7] = 0; bytes[sof + 8] = 0
        XCTAssertEqual(attempt(bytes), .corrupt)
    }

    func testUndefinedTablesAreCorrupt() throws {
        let bytes = try fixture("chelsea61x43_b_q75_420.jpg")
        // Point the first scan component at Huffman tables 3/3, which the file never defines.
        var huffman = bytes
        let sos = try XCTUnwrap(markerOffset(0xDA, in: bytes))
        huffman[sos + 6] = 0x33
        do {
            _ = try JPEGDecoder.decode(huffman, limits: ImageLimits())
            XCTFail("decoded with an undefined huffman table")
        } catch {
            XCTAssertEqual(error.kind, .corrupt)
            XCTAssertTrue(error.reason.contains("huffman table 3"), error.reason)
        }
        // Point the first frame component at quantisation table 3.
        var quantization = bytes
        let sof = try XCTUnwrap(markerOffset(0xC0, in: bytes))
        quantization[sof + 12] = 3
        do {
            _ = try JPEGDecoder.decode(quantization, limits: ImageLimits())
            XCTFail("decoded with an undefined quantisation table")
        } catch {
            XCTAssertEqual(error.kind, .corrupt)
            XCTAssertTrue(error.reason.contains("quantisation table 3"), error.reason)
        }
    }

    func testNotAJPEG() {
        XCTAssertEqual(attempt([]), .truncated)
        XCTAssertEqual(attempt([0x89, 0x50, 0x4E, 0x47]), .corrupt)
        XCTAssertEqual(attempt([0xFF, 0xD8]), .truncated)
        XCTAssertEqual(attempt([0xFF, 0xD8, 0xFF, 0xD9]), .corrupt)
    }

    func testFillBytesAndExtraneousDataBetweenSegments() throws {
        let bytes = try fixture("chelsea61x43_b_q90_444.jpg")
        let expected = try JPEGDecoder.decode(bytes, limits: ImageLimits())
        // Fill bytes before the SOS marker are allowed (T.81 B.1.1.2).
        let sos = try XCTUnwrap(markerOffset(0xDA, in: bytes))
        let padded = Array(bytes[0..<sos]) + [0xFF, 0xFF, 0xFF] + Array(bytes[sos...])
        XCTAssertEqual(try JPEGDecoder.decode(padded, limits: ImageLimits()), expected)
    }

    // MARK: - Helpers

    /// Offset of the first `FF marker` found by walking the segments from SOI.
    private func markerOffset(_ marker: UInt8, in bytes: [UInt8]) -> Int? {
        var p = 2
        while p + 4 <= bytes.count, bytes[p] == 0xFF {
            if bytes[p + 1] == marker { return p }
            let length = Int(bytes[p + 2]) << 8 | Int(bytes[p + 3])
            p += 2 + length
        }
        return nil
    }

    /// Offset of the first entropy-coded byte of the first scan.
    private func firstScanData(_ bytes: [UInt8]) -> Int? {
        guard let sos = markerOffset(0xDA, in: bytes) else { return nil }
        return sos + 2 + (Int(bytes[sos + 2]) << 8 | Int(bytes[sos + 3]))
    }
}
