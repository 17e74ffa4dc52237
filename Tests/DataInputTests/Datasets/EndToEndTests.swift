import DataInput
import Foundation
import TestSupport
import XCTest

/// Files on disk → decoder → preprocessing → batch, against torchvision's tensors from Pillow's
/// decoding of the same files.
final class EndToEndTests: XCTestCase {
    static let imagenetMean: [Float] = [0.485, 0.456, 0.406]
    static let imagenetStd: [Float] = [0.229, 0.224, 0.225]

    func testPNGFolderWithTheImagenetPreset() throws {
        let folder = try DatasetTestFolder()
        try folder.copy("preprocess/astronaut.png", to: "1.png")
        let dataset = try Dataset(source: .imageFolder(path: folder.path), options: DatasetOptions(preprocess: .imagenet))
        let batch = try XCTUnwrap(try dataset.batches(size: 4).next())
        XCTAssertEqual(batch.shape, [1, 3, 224, 224])
        let reference = try NPYArray.read(path: FixturePaths.path("preprocess/tensor_imagenet_astronaut.npy")).floats()
        if let failure = mismatch(batch.values, reference, .close(absolute: 1e-3, relative: 0)) { XCTFail(failure) }
    }

    func testJPEGAndGreyPNGEndToEnd() throws {
        let folder = try DatasetTestFolder()
        try folder.copy("preprocess/chelsea.jpg", to: "a.jpg")
        let spec = PreprocessSpec(resize: .shorterSide(80), crop: .init(64), mean: Self.imagenetMean, std: Self.imagenetStd)
        let batch = try XCTUnwrap(try Dataset(source: .imageFolder(path: folder.path), options: DatasetOptions(preprocess: spec)).batches(size: 1).next())
        let reference = try NPYArray.read(path: FixturePaths.path("preprocess/tensor_jpeg_chelsea.npy")).floats()
        if let failure = mismatch(batch.values, reference, .close(absolute: 1e-3, relative: 0)) { XCTFail("jpeg: \(failure)") }

        let grey = try DatasetTestFolder()
        try grey.copy("preprocess/camera.png", to: "a.png")
        let small = PreprocessSpec(resize: .shorterSide(64), crop: .init(56), mean: Self.imagenetMean, std: Self.imagenetStd)
        let greyBatch = try XCTUnwrap(try Dataset(source: .imageFolder(path: grey.path), options: DatasetOptions(preprocess: small, layout: .nhwc)).batches(size: 1).next())
        XCTAssertEqual(greyBatch.shape, [1, 56, 56, 3])
        let nchw = try NPYArray.read(path: FixturePaths.path("preprocess/tensor_small_camera.npy")).floats()
        var nhwc = [Float](repeating: 0, count: nchw.count)
        for c in 0..<3 { for i in 0..<(56 * 56) { nhwc[i * 3 + c] = nchw[c * 56 * 56 + i] } }
        if let failure = mismatch(greyBatch.values, nhwc, .close(absolute: 1e-3, relative: 0)) { XCTFail("grey: \(failure)") }
    }

    func testNPYSources() throws {
        let folder = try DatasetTestFolder()
        // uint8 pixels (N,H,W,C): preprocessed like decoded images.
        let pixels = try NPYArray.read(path: FixturePaths.path("preprocess/astronaut.pixels.npy"))
        let two = NPYArray(shape: [2] + pixels.shape, uint8s: pixels.uint8s() + pixels.uint8s())
        try two.write(path: folder.path + "/pixels.npy")
        let dataset = try Dataset(source: .npy(path: folder.path + "/pixels.npy"), options: DatasetOptions(threads: 2))
        XCTAssertEqual(dataset.count, 2)
        let batch = try XCTUnwrap(try dataset.batches(size: 8).next())
        XCTAssertEqual(batch.shape, [2, 3, 224, 224])
        XCTAssertEqual(batch.sources, ["pixels.npy[0]", "pixels.npy[1]"])
        let reference = try NPYArray.read(path: FixturePaths.path("preprocess/tensor_imagenet_astronaut.npy")).floats()
        if let failure = mismatch(batch.values, reference + reference, .close(absolute: 1e-3, relative: 0)) { XCTFail(failure) }

        // float32 (N, ...): taken as preprocessed, read in item ranges.
        let floats = NPYArray(shape: [3, 2, 2], floats: (0..<12).map(Float.init))
        try floats.write(path: folder.path + "/inputs.npy")
        let reader = try Dataset(source: .npy(path: folder.path + "/inputs.npy")).batches(size: 2)
        let first = try XCTUnwrap(try reader.next())
        let second = try XCTUnwrap(try reader.next())
        XCTAssertEqual(first.shape, [2, 2, 2])
        XCTAssertEqual(first.values, (0..<8).map(Float.init))
        XCTAssertEqual(second.shape, [1, 2, 2])
        XCTAssertEqual(second.values, [8, 9, 10, 11])
        XCTAssertNil(try reader.next())

        XCTAssertThrowsError(try Dataset(source: .npy(path: FixturePaths.path("npy/i64_2x2x2.npy"))))
        // No items, but a per-item size whose pixel count overflows: refused, no trap.
        let hostile = "{'descr': '|u1', 'fortran_order': False, 'shape': (0, 4294967296, 4294967296, 3), }"
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(hostile.utf8.count + 1), 0]
        bytes += Array(hostile.utf8) + [0x0A]
        try Data(bytes).write(to: URL(fileURLWithPath: folder.path + "/hostile.npy"))
        XCTAssertThrowsError(try Dataset(source: .npy(path: folder.path + "/hostile.npy")))
    }
}
