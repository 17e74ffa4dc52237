import Foundation

/// Reads one image file and decodes it with the decoder its first bytes name (PNG signature, JPEG
/// SOI marker, PPM/PGM `P1`...`P6`), as PIL picks a decoder by content rather than by extension.
/// Every error carries the path.
public enum ImageFileReader {
    /// Files larger than this are refused before they are read (no image WeakSpot decodes needs it).
    public static let maxFileBytes = 1 << 30

    public static func decode(path: String, limits: ImageLimits) throws(ImageDecodingError) -> DecodedImage {
        let bytes: [UInt8]
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            if let size = attributes[.size] as? Int, size > maxFileBytes {
                throw ImageDecodingError(.tooLarge, "expected at most \(maxFileBytes) bytes, got \(size)", file: path)
            }
            bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch let error as ImageDecodingError {
            throw error
        } catch {
            throw ImageDecodingError(.io, "could not read: \(error.localizedDescription)", file: path)
        }
        do {
            return try decode(bytes, limits: limits)
        } catch {
            var located = error
            located.file = path
            throw located
        }
    }

    public static func decode(_ bytes: [UInt8], limits: ImageLimits) throws(ImageDecodingError) -> DecodedImage {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return try PNGDecoder.decode(bytes, limits: limits) }
        if bytes.starts(with: [0xFF, 0xD8]) { return try JPEGDecoder.decode(bytes, limits: limits) }
        if bytes.count >= 2, bytes[0] == UInt8(ascii: "P"), (UInt8(ascii: "1")...UInt8(ascii: "6")).contains(bytes[1]) {
            return try PPMDecoder.decode(bytes, limits: limits)
        }
        let head = bytes.prefix(4).map { String(format: "%02x", $0) }.joined(separator: " ")
        throw ImageDecodingError(.unsupported, "expected a PNG, JPEG or PPM/PGM signature, got bytes [\(head)]", offset: 0)
    }
}
