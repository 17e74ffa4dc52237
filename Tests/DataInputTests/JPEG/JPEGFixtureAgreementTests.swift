import DataInput
import Foundation
import TestSupport
import XCTest

/// Agreement with Pillow (libjpeg-turbo) on the fixtures of Fixtures/scripts/make_jpeg_fixtures.py.
final class JPEGFixtureAgreementTests: XCTestCase {
    struct Manifest: Decodable {
        struct DecodeCase: Decodable {
            var file: String
            var expected: String
            var width: Int
            var height: Int
            var channels: Int
            var sampling: String
            var progressive: Bool
        }
        struct UnsupportedCase: Decodable {
            var file: String
            var message: String
        }
        var decode: [DecodeCase]
        var unsupported: [UnsupportedCase]
    }

    static func manifest() throws -> Manifest {
        try JSONDecoder().decode(Manifest.self, from: Data(FixturePaths.data("jpeg/manifest.json")))
    }

    /// Per sampling mode: samples compared, exact, within ±1, sum of |diff|, max |diff|.
    struct Tally {
        var samples = 0, exact = 0, withinOne = 0, absoluteSum = 0, maxDiff = 0, files = 0
        mutating func add(_ other: Tally) {
            samples += other.samples; exact += other.exact; withinOne += other.withinOne
            absoluteSum += other.absoluteSum; maxDiff = max(maxDiff, other.maxDiff); files += other.files
        }
        var summary: String {
            String(format: "%d files, %d samples, exact %.5f, within ±1 %.5f, mean |diff| %.5f, max |diff| %d",
                   files, samples, Double(exact) / Double(max(samples, 1)), Double(withinOne) / Double(max(samples, 1)),
                   Double(absoluteSum) / Double(max(samples, 1)), maxDiff)
        }
    }

    func testPixelsMatchPillow() throws {
        let manifest = try Self.manifest()
        XCTAssertGreaterThan(manifest.decode.count, 50)
        var bySampling: [String: Tally] = [:]
        var overall = Tally()
        for entry in manifest.decode {
            let bytes = try FixturePaths.data("jpeg/" + entry.file)
            let expected = try FixturePaths.data("jpeg/" + entry.expected)
            let image: DecodedImage
            do {
                image = try JPEGDecoder.decode(bytes, limits: ImageLimits())
            } catch {
                XCTFail("\(entry.file): \(error)")
                continue
            }
            XCTAssertEqual(image.width, entry.width, entry.file)
            XCTAssertEqual(image.height, entry.height, entry.file)
            XCTAssertEqual(image.channels, entry.channels, entry.file)
            guard image.pixels.count == expected.count else {
                XCTFail("\(entry.file): \(image.pixels.count) samples, expected \(expected.count)")
                continue
            }
            var tally = Tally()
            tally.files = 1
            var firstMismatch: Int?
            for i in 0..<expected.count {
                let d = abs(Int(image.pixels[i]) - Int(expected[i]))
                tally.samples += 1
                if d == 0 { tally.exact += 1 } else if firstMismatch == nil { firstMismatch = i }
                if d <= 1 { tally.withinOne += 1 }
                tally.absoluteSum += d
                tally.maxDiff = max(tally.maxDiff, d)
            }
            if let i = firstMismatch {
                let pixel = i / entry.channels
                print("jpeg agreement: \(entry.file): first difference at x \(pixel % entry.width), y \(pixel / entry.width), channel \(i % entry.channels): got \(image.pixels[i]), expected \(expected[i]); \(tally.summary)")
            }
            bySampling[entry.sampling + (entry.progressive ? " progressive" : " sequential"), default: Tally()].add(tally)
            overall.add(tally)
        }
        for key in bySampling.keys.sorted() {
            print("jpeg agreement \(key): \(bySampling[key]!.summary)")
        }
        print("jpeg agreement overall: \(overall.summary)")
        // The bar: within ±1 on at least 99.9% of samples, mean |diff| at most 0.05.
        XCTAssertGreaterThanOrEqual(Double(overall.withinOne), 0.999 * Double(overall.samples))
        XCTAssertLessThanOrEqual(Double(overall.absoluteSum), 0.05 * Double(overall.samples))
        // What this decoder achieves, and so what it must keep: bit-identical to Pillow.
        XCTAssertEqual(overall.exact, overall.samples, "not bit-identical to pillow: \(overall.summary)")
    }

    func testUnsupportedKindsSaySo() throws {
        let manifest = try Self.manifest()
        XCTAssertGreaterThanOrEqual(manifest.unsupported.count, 3)
        for entry in manifest.unsupported {
            let bytes = try FixturePaths.data("jpeg/" + entry.file)
            do {
                _ = try JPEGDecoder.decode(bytes, limits: ImageLimits())
                XCTFail("\(entry.file): decoded, expected .unsupported")
            } catch {
                XCTAssertEqual(error.kind, .unsupported, "\(entry.file): \(error)")
                XCTAssertTrue(error.reason.contains(entry.message), "\(entry.file): \(error.reason)")
            }
        }
    }
}
