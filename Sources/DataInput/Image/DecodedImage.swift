/// An image as the decoders produce it and as PIL holds it after `convert("RGB")` or `convert("L")`:
/// 8-bit samples, interleaved, rows top to bottom (HWC layout).
public struct DecodedImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// 1 (grey) or 3 (RGB). Alpha is dropped by the decoders, as PIL's `convert("RGB")` drops it.
    public var channels: Int
    /// `height * width * channels` samples, HWC.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * channels, "pixel count does not match the dimensions")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }
}

/// Why an image could not be read. `description` is the one-line message the CLI prints
/// (exit code 2): the file, the place in it, and what was expected.
public struct ImageDecodingError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case truncated, corrupt, unsupported, tooLarge, io }
    public var kind: Kind
    /// Byte offset in the file where the problem was found, when known.
    public var offset: Int?
    public var reason: String
    /// Filled in by the caller that knows the path.
    public var file: String?

    public init(_ kind: Kind, _ reason: String, offset: Int? = nil, file: String? = nil) {
        self.kind = kind
        self.reason = reason
        self.offset = offset
        self.file = file
    }

    public var description: String {
        var s = file.map { "\($0): " } ?? ""
        if let offset { s += "at byte \(offset): " }
        return s + reason
    }
}

/// Limits that a hostile file cannot get past. A decoder checks them from the header,
/// before it allocates anything proportional to the declared size.
public struct ImageLimits: Sendable {
    /// Largest width × height accepted. The default is PIL's decompression-bomb error threshold
    /// (2 × 89,478,485), so that files PIL opens open here too.
    public var maxPixels: Int
    public init(maxPixels: Int = 178_956_970) { self.maxPixels = maxPixels }
}
