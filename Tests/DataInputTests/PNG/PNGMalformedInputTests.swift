import DataInput
import Foundation
import TestSupport
import XCTest

/// Malformed files: each crafted one is refused with the right kind and message, and no truncated,
/// corrupted or random input crashes or hangs (each must throw or decode).
final class PNGMalformedInputTests: XCTestCase {
    func testCraftedBadFilesAreRefusedWithTheRightError() throws {
        let fixtures = try PNGBadFixture.all()
        XCTAssertGreaterThan(fixtures.count, 20)
        for fixture in fixtures {
            let bytes = try fixture.bytes()
            do throws(ImageDecodingError) {
                let image = fixture.file.hasSuffix(".png")
                    ? try PNGDecoder.decode(bytes, limits: ImageLimits())
                    : try PPMDecoder.decode(bytes, limits: ImageLimits())
                XCTFail("\(fixture.file): decoded to \(image.width)x\(image.height), expected \(fixture.kind) (\(fixture.why))")
            } catch {
                XCTAssertEqual(pngErrorKindName(error.kind), fixture.kind, "\(fixture.file): \(error) (\(fixture.why))")
                XCTAssertTrue(error.description.contains(fixture.contains),
                              "\(fixture.file): message \"\(error)\" lacks \"\(fixture.contains)\"")
            }
        }
    }

    func testHugeHeaderIsRefusedBeforeAllocating() throws {
        let bytes = try FixturePaths.data("png/bad_huge_100000x100000.png")
        XCTAssertThrowsError(try PNGDecoder.decode(bytes, limits: ImageLimits())) { error in
            guard let error = error as? ImageDecodingError else { return XCTFail("\(error)") }
            XCTAssertEqual(pngErrorKindName(error.kind), "tooLarge")
            XCTAssertEqual(error.offset, 8, "the IHDR chunk")
        }
        // A lower limit refuses an ordinary image, naming the option.
        let small = try FixturePaths.data("png/pil_rgb_37x29.png")
        XCTAssertThrowsError(try PNGDecoder.decode(small, limits: ImageLimits(maxPixels: 1000))) { error in
            XCTAssertTrue("\(error)".contains("--max-pixels"), "\(error)")
        }
        XCTAssertNoThrow(try PNGDecoder.decode(small, limits: ImageLimits(maxPixels: 37 * 29)))
    }

    func testWrongCRCOnEveryChunkNamesTheChunk() throws {
        let bytes = try FixturePaths.data("png/enc_rgb8_37x29_ancillary.png")
        var position = 8
        var checked = 0
        while position + 12 <= bytes.count {
            let length = Int(bytes[position]) << 24 | Int(bytes[position + 1]) << 16 | Int(bytes[position + 2]) << 8 | Int(bytes[position + 3])
            let type = String(decoding: bytes[(position + 4)..<(position + 8)], as: UTF8.self)
            var broken = bytes
            broken[position + 8 + length + 3] ^= 0x40
            XCTAssertThrowsError(try PNGDecoder.decode(broken, limits: ImageLimits())) { error in
                XCTAssertTrue("\(error)".contains("chunk \(type): crc"), "\(error)")
            }
            checked += 1
            position += 12 + length
        }
        XCTAssertEqual(checked, 7, "IHDR, four ancillary chunks, IDAT, IEND")
    }

    func testTruncationAtEveryOffsetThrows() throws {
        for name in ["pil_palette2_37x29.png", "enc_rgb16_37x29_adam7.png", "pil_rgb_7x3_level0.png"] {
            let bytes = try FixturePaths.data("png/" + name)
            for length in 0..<bytes.count {
                XCTAssertThrowsError(try PNGDecoder.decode(Array(bytes[0..<length]), limits: ImageLimits()),
                                     "\(name) cut at \(length) of \(bytes.count)")
            }
        }
        let big = try FixturePaths.data("png/photo_chelsea_500x400.png")
        for length in stride(from: 0, to: big.count, by: 997) {
            XCTAssertThrowsError(try PNGDecoder.decode(Array(big[0..<length]), limits: ImageLimits()))
        }
    }

    func testSeededRandomBytesNeverCrash() {
        var random = PNGTestRandom(seed: 1)
        let signatureAndHeader = Array(try! FixturePaths.data("png/pil_rgb_37x29.png").prefix(33))
        var decoded = 0
        for trial in 0..<3000 {
            var bytes = (0..<Int(random.next() % 600)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if trial % 2 == 0 { bytes = signatureAndHeader + bytes }
            if (try? PNGDecoder.decode(bytes, limits: ImageLimits())) != nil { decoded += 1 }
            if (try? PPMDecoder.decode(bytes, limits: ImageLimits())) != nil { decoded += 1 }
            if (try? ZlibInflater.inflate(bytes, expectedSize: nil, maxSize: 1 << 20)) != nil { decoded += 1 }
        }
        XCTAssertLessThan(decoded, 100)
    }

    /// Single-byte corruptions, first as they come (the CRC catches most), then with every chunk's
    /// CRC recomputed, so that the damage reaches the inflater, the filters and the pixel writer.
    func testRandomSingleByteCorruptionsThrowOrDecode() throws {
        var random = PNGTestRandom(seed: 2)
        for name in ["enc_palette4_trns_37x29_adam7.png", "pil_rgb_64x48_optimize.png", "enc_rgb16_64x48_filter4.png", "enc_grey2_37x29.png"] {
            let original = try FixturePaths.data("png/" + name)
            var outcomes = [0, 0]
            for trial in 0..<1500 {
                var bytes = original
                let at = 8 + Int(random.next() % UInt64(bytes.count - 8))
                bytes[at] ^= UInt8(truncatingIfNeeded: random.next() % 255 + 1)
                if trial % 2 == 1 { TestPNGChunks.fixCRCs(&bytes) }
                do {
                    _ = try PNGDecoder.decode(bytes, limits: ImageLimits())
                    outcomes[0] += 1
                } catch {
                    outcomes[1] += 1
                }
            }
            XCTAssertGreaterThan(outcomes[1], 700, "\(name): most corruptions are refused (decoded \(outcomes[0]))")
        }
    }

    func testRandomCorruptionsOfARawZlibStream() throws {
        var random = PNGTestRandom(seed: 3)
        let original = try FixturePaths.data("png/zlib_text_level9.zz")
        var refused = 0
        for _ in 0..<2000 {
            var bytes = original
            for _ in 0..<(1 + Int(random.next() % 3)) {
                bytes[Int(random.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: random.next() % 255 + 1)
            }
            if (try? ZlibInflater.inflate(bytes, expectedSize: nil, maxSize: 1 << 20)) == nil { refused += 1 }
        }
        XCTAssertGreaterThan(refused, 1900, "Adler-32 catches what decoding does not")
    }
}

/// A seeded generator (PNGTestRandom), so failures reproduce.
struct PNGTestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Test-side PNG chunk helpers, with a bit-by-bit CRC-32 independent of the decoder's.
enum TestPNGChunks {
    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 == 1 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
        }
        return ~c
    }

    /// Rewrites every chunk's CRC to match its (possibly damaged) type and data; stops at the
    /// first chunk whose length runs past the end.
    static func fixCRCs(_ bytes: inout [UInt8]) {
        var position = 8
        while position + 12 <= bytes.count {
            let length = Int(bytes[position]) << 24 | Int(bytes[position + 1]) << 16 | Int(bytes[position + 2]) << 8 | Int(bytes[position + 3])
            guard length <= bytes.count - position - 12 else { return }
            let crc = crc32(bytes[(position + 4)..<(position + 8 + length)])
            for k in 0..<4 { bytes[position + 8 + length + k] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(k))) }
            position += 12 + length
        }
    }
}
