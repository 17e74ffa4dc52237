import DataInput
import Foundation
import TestSupport

/// One row of Fixtures/png/manifest.json, written by Fixtures/scripts/make_png_fixtures.py: an
/// image file and the pixels Pillow reads from it (`convert("L")` or `convert("RGB")`).
struct PNGFixture: Decodable {
    var file: String
    var pixels: String
    var width: Int
    var height: Int
    var channels: Int
    var sha256: String
    var why: String

    static func all() throws -> [PNGFixture] {
        let data = try Data(contentsOf: FixturePaths.url("png/manifest.json"))
        return try JSONDecoder().decode([PNGFixture].self, from: data)
    }

    func bytes() throws -> [UInt8] { try FixturePaths.data("png/" + file) }
    func expectedPixels() throws -> [UInt8] { try FixturePaths.data("png/" + pixels) }

    /// Nil when `image` matches; otherwise what differs (size, or the first differing sample and the count).
    func mismatch(_ image: DecodedImage) throws -> String? {
        if image.width != width || image.height != height || image.channels != channels {
            return "\(file): got \(image.width)x\(image.height)x\(image.channels), expected \(width)x\(height)x\(channels)"
        }
        let expected = try expectedPixels()
        guard expected.count == image.pixels.count else {
            return "\(file): \(image.pixels.count) samples, expected \(expected.count)"
        }
        var differing = 0
        var first: Int? = nil
        for i in 0..<expected.count where expected[i] != image.pixels[i] {
            differing += 1
            if first == nil { first = i }
        }
        guard let i = first else { return nil }
        let pixel = i / channels
        return "\(file): \(differing) of \(expected.count) samples differ; first at y \(pixel / width) x \(pixel % width) channel \(i % channels): got \(image.pixels[i]), expected \(expected[i])"
    }
}

/// An image file that must be refused, with the error kind and a fragment of the message
/// (Fixtures/png/bad_manifest.json).
struct PNGBadFixture: Decodable {
    var file: String
    var kind: String
    var contains: String
    var why: String

    static func all() throws -> [PNGBadFixture] {
        let data = try Data(contentsOf: FixturePaths.url("png/bad_manifest.json"))
        return try JSONDecoder().decode([PNGBadFixture].self, from: data)
    }

    func bytes() throws -> [UInt8] { try FixturePaths.data("png/" + file) }
}

func pngErrorKindName(_ kind: ImageDecodingError.Kind) -> String {
    switch kind {
    case .truncated: "truncated"
    case .corrupt: "corrupt"
    case .unsupported: "unsupported"
    case .tooLarge: "tooLarge"
    case .io: "io"
    }
}
