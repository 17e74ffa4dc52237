import DataInput
import TestSupport
import XCTest

/// Truncated, damaged and oversized Netpbm files throw (never crash); plain files cut after their
/// last complete sample may still decode, but then to the same pixels.
final class PPMMalformedInputTests: XCTestCase {
    func testTruncatedRawFilesThrowAtEveryOffset() throws {
        for name in ["pil_rgb_37x29.ppm", "p6_maxval1000_37x29.ppm", "pil_grey16_37x29.pgm", "pil_bilevel_37x29.pbm", "p6_comments_7x3.ppm"] {
            let bytes = try FixturePaths.data("png/" + name)
            for length in 0..<bytes.count {
                XCTAssertThrowsError(try PPMDecoder.decode(Array(bytes[0..<length]), limits: ImageLimits()),
                                     "\(name) cut at \(length) of \(bytes.count)")
            }
        }
    }

    /// A plain file cut inside its last number is still a valid file (with a smaller last sample,
    /// as Pillow reads it too); cut anywhere before that number, it must throw.
    func testTruncatedPlainFilesThrowBeforeTheirLastSample() throws {
        for name in ["p3_ascii_7x3.ppm", "p2_ascii_maxval15_7x3.pgm", "p1_plain_7x3.pbm"] {
            let bytes = try FixturePaths.data("png/" + name)
            let full = try PPMDecoder.decode(bytes, limits: ImageLimits())
            var end = bytes.count
            while end > 0, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[end - 1]) { end -= 1 }
            var lastSampleStart = end
            while lastSampleStart > 0, !(name.hasSuffix(".pbm") && lastSampleStart < end),
                  ![0x20, 0x0A, 0x0D, 0x09].contains(bytes[lastSampleStart - 1]) { lastSampleStart -= 1 }
            for length in 0..<bytes.count {
                let image = try? PPMDecoder.decode(Array(bytes[0..<length]), limits: ImageLimits())
                if length <= lastSampleStart {
                    XCTAssertNil(image, "\(name) cut at \(length) of \(bytes.count)")
                } else if length >= end {
                    XCTAssertEqual(image, full, "\(name) cut at \(length)")
                } else {
                    XCTAssertEqual(image?.pixels.dropLast(), full.pixels.dropLast(), "\(name) cut at \(length)")
                }
            }
        }
    }

    func testRandomCorruptionsThrowOrDecode() throws {
        var random = PNGTestRandom(seed: 4)
        for name in ["p6_maxval100_37x29.ppm", "p3_ascii_7x3.ppm", "p6_comments_7x3.ppm", "p5_maxval1000_37x29.pgm"] {
            let original = try FixturePaths.data("png/" + name)
            for _ in 0..<1000 {
                var bytes = original
                let at = Int(random.next() % UInt64(min(bytes.count, 40)))   // mostly the header
                bytes[at] = UInt8(truncatingIfNeeded: random.next())
                _ = try? PPMDecoder.decode(bytes, limits: ImageLimits())
            }
        }
    }

    func testLimitNamesTheOption() throws {
        let bytes = try FixturePaths.data("png/pil_rgb_37x29.ppm")
        XCTAssertThrowsError(try PPMDecoder.decode(bytes, limits: ImageLimits(maxPixels: 100))) { error in
            XCTAssertTrue("\(error)".contains("--max-pixels"), "\(error)")
        }
    }
}
