/// Decodes baseline, extended-sequential and progressive Huffman-coded JPEG files (8-bit, 1 or 3
/// components) to exactly the pixels Pillow gives for `Image.open(path).convert("RGB")` (colour)
/// or `convert("L")` (greyscale): libjpeg-turbo's default decompression, which is the islow
/// integer IDCT, fancy upsampling and integer YCbCr → RGB. docs/jpeg.md lists what is supported
/// and the measured agreement.
public enum JPEGDecoder {
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - limits: width × height above `limits.maxPixels` is refused from the header, before
    ///     anything proportional to the image is allocated.
    /// - Returns: HWC pixels, `channels` 1 (one-component files) or 3 (RGB).
    /// - Throws: `ImageDecodingError` with kind `.unsupported` (arithmetic coding, 12-bit,
    ///   lossless, hierarchical, 4 components, fractional sampling ratios), `.tooLarge`,
    ///   `.truncated` (the data ends inside a scan or segment, or before a progressive file's
    ///   EOI), or `.corrupt` (malformed headers, undefined tables, invalid progression).
    public static func decode(_ bytes: [UInt8], limits: ImageLimits = ImageLimits()) throws(ImageDecodingError) -> DecodedImage {
        let result: Result<DecodedImage, ImageDecodingError> = bytes.withUnsafeBufferPointer { buffer in
            var session = JPEGDecodingSession(data: buffer, limits: limits)
            do throws(ImageDecodingError) {
                return .success(try session.run())
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}
