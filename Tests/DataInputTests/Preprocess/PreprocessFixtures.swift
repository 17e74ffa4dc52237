import DataInput
import TestSupport

/// Fixture images (Fixtures/preprocess/<name>.pixels.npy: Pillow's pixels, HWC or HW for grey)
/// as DecodedImage values, so preprocessing is tested without any decoder.
enum PreprocessFixtures {
    static func image(_ name: String) throws -> DecodedImage {
        try image(fromNPY: "preprocess/\(name)")
    }

    static func image(fromNPY relative: String) throws -> DecodedImage {
        let array = try NPYArray.read(path: FixturePaths.path(relative))
        let channels = array.shape.count == 3 ? array.shape[2] : 1
        return DecodedImage(width: array.shape[1], height: array.shape[0], channels: channels, pixels: array.uint8s())
    }

    static func tensor(_ name: String) throws -> NPYArray {
        try NPYArray.read(path: FixturePaths.path("preprocess/\(name)"))
    }
}
