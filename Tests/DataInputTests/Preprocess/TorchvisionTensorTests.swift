import DataInput
import TestSupport
import XCTest

/// Preprocessed tensors against torchvision's (PIL backend) Compose([Resize, CenterCrop, ToTensor,
/// Normalize]) from the same pixels. The contract is 1e-3; these are held to 1e-6 (measured:
/// bit-identical on every case).
final class TorchvisionTensorTests: XCTestCase {
    static let imagenetMean: [Float] = [0.485, 0.456, 0.406]
    static let imagenetStd: [Float] = [0.229, 0.224, 0.225]

    func check(_ imageName: String, _ spec: PreprocessSpec, against tensorName: String,
               file: StaticString = #filePath, line: UInt = #line) throws {
        let image = try PreprocessFixtures.image("\(imageName).pixels.npy")
        let reference = try PreprocessFixtures.tensor(tensorName)
        let geometry = try spec.geometry(width: image.width, height: image.height)
        XCTAssertEqual(spec.outputShape(geometry, layout: .nchw), reference.shape, file: file, line: line)
        let nchw = try preprocess(image, spec: spec, layout: .nchw)
        if let failure = mismatch(nchw, reference.floats(), .close(absolute: 1e-6, relative: 0)) {
            XCTFail("\(tensorName): \(failure)", file: file, line: line)
        }
        // NHWC holds the same values, transposed.
        let nhwc = try preprocess(image, spec: spec, layout: .nhwc)
        let (c, h, w) = (reference.shape[0], reference.shape[1], reference.shape[2])
        var transposed = [Float](repeating: 0, count: nhwc.count)
        for ch in 0..<c { for y in 0..<h { for x in 0..<w { transposed[(ch * h + y) * w + x] = nhwc[(y * w + x) * c + ch] } } }
        XCTAssertEqual(transposed, nchw, "\(tensorName): NHWC is not the transpose of NCHW", file: file, line: line)
    }

    func testImagenetPreset() throws {
        try check("astronaut", .imagenet, against: "tensor_imagenet_astronaut.npy")
    }

    func testInceptionPreset() throws {
        try check("chelsea", .inception, against: "tensor_inception_chelsea.npy")
    }

    func testExplicitNonSquareResizeAndCrop() throws {
        let spec = PreprocessSpec(resize: .size(height: 100, width: 150), crop: .init(height: 90, width: 120),
                                  mean: Self.imagenetMean, std: Self.imagenetStd)
        try check("chelsea", spec, against: "tensor_nonsquare_chelsea.npy")
    }

    func testGreyImageBecomesThreeChannels() throws {
        let spec = PreprocessSpec(resize: .shorterSide(64), crop: .init(56), mean: Self.imagenetMean, std: Self.imagenetStd)
        try check("camera", spec, against: "tensor_small_camera.npy")
    }

    func testStrongReduction() throws {
        let spec = PreprocessSpec(resize: .shorterSide(32), crop: .init(28), mean: Self.imagenetMean, std: Self.imagenetStd)
        try check("coffee", spec, against: "tensor_small_coffee.npy")
    }

    func testCropLargerThanImagePadsWithZeroPixels() throws {
        let spec = PreprocessSpec(resize: .shorterSide(20), crop: .init(height: 25, width: 36),
                                  mean: Self.imagenetMean, std: Self.imagenetStd)
        try check("tiny", spec, against: "tensor_padded_tiny.npy")
    }

    func testOneChannelUsesPILLuminance() throws {
        let spec = PreprocessSpec(resize: .shorterSide(64), crop: .init(56), mean: [0.5], std: [0.5], channels: 1)
        try check("chelsea", spec, against: "tensor_luminance_chelsea.npy")
    }

    func testRawPresetIsToTensorOnly() throws {
        try check("tiny", .raw, against: "tensor_raw_tiny.npy")
    }

    func testGeometryFollowsTorchvision() throws {
        // Resize(256): shorter side 256, longer int(256 * long / short).
        let g = try PreprocessSpec.imagenet.geometry(width: 500, height: 375)
        XCTAssertEqual([g.resizedWidth, g.resizedHeight, g.outputWidth, g.outputHeight], [341, 256, 224, 224])
        // int(round((341 - 224) / 2.0)) = round(58.5) = 58 (half to even), top = 16.
        XCTAssertEqual([g.offsetX, g.offsetY], [58, 16])
        let portrait = try PreprocessSpec.imagenet.geometry(width: 333, height: 500)
        XCTAssertEqual([portrait.resizedWidth, portrait.resizedHeight], [256, 384])
    }

    func testInvalidSpecsAndImagesThrow() {
        let image = DecodedImage(width: 4, height: 4, channels: 3, pixels: [UInt8](repeating: 7, count: 48))
        var spec = PreprocessSpec.imagenet
        spec.std = [1, 0, 1]
        XCTAssertThrowsError(try preprocess(image, spec: spec, layout: .nchw))
        spec = .imagenet
        spec.mean = [0.5, 0.5]
        XCTAssertThrowsError(try preprocess(image, spec: spec, layout: .nchw))
        spec = .imagenet
        spec.resize = .shorterSide(0)
        XCTAssertThrowsError(try preprocess(image, spec: spec, layout: .nchw))
        // A 1-pixel-high image asked to grow its shorter side to 2^20: refused, not allocated.
        let strip = DecodedImage(width: 1 << 16, height: 1, channels: 1, pixels: [UInt8](repeating: 1, count: 1 << 16))
        spec = .raw
        spec.resize = .shorterSide(1 << 20)
        XCTAssertThrowsError(try preprocess(strip, spec: spec, layout: .nchw))
        let empty = DecodedImage(width: 0, height: 0, channels: 3, pixels: [])
        XCTAssertThrowsError(try preprocess(empty, spec: .imagenet, layout: .nchw))
    }
}
