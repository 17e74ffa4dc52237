import DataInput
import Foundation
import TestSupport
import XCTest

final class BatchingTests: XCTestCase {
    func readAll(_ dataset: Dataset, size: Int) throws -> (batches: [InputBatch], reader: BatchReader) {
        let reader = try dataset.batches(size: size)
        var batches: [InputBatch] = []
        while let batch = try reader.next() { batches.append(batch) }
        return (batches, reader)
    }

    func testSyntheticMatchesTheIndependentGeneratorAndIgnoresBatchSize() throws {
        for (name, count, shape, seed) in [("synthetic_4x3x3x3_seed7.npy", 4, [3, 3, 3], UInt64(7)),
                                           ("synthetic_2x2x4x4_seed0.npy", 2, [2, 4, 4], UInt64(0))] {
            let reference = try NPYArray.read(path: FixturePaths.path("preprocess/\(name)"))
            for size in [1, 3, 100] {
                let dataset = try Dataset(source: .synthetic(count: count, seed: seed), options: DatasetOptions(syntheticShape: shape))
                let (batches, _) = try readAll(dataset, size: size)
                XCTAssertEqual(batches.map { $0.shape[0] }.reduce(0, +), count)
                XCTAssertEqual(batches[0].shape, [min(size, count)] + shape)
                let values = batches.flatMap(\.values)
                XCTAssertEqual(values.map(\.bitPattern), reference.floats().map(\.bitPattern), "\(name), batch \(size): not bit-identical")
            }
        }
        XCTAssertThrowsError(try Dataset(source: .synthetic(count: 2, seed: 1)))
    }

    func testCountNotAMultipleOfTheBatch() throws {
        let folder = try DatasetTestFolder()
        for i in 0..<5 { try folder.copy("preprocess/tiny.png", to: "\(i).png") }
        let dataset = try Dataset(source: .imageFolder(path: folder.path),
                                  options: DatasetOptions(preprocess: .raw, labelsPath: FixturePaths.path("npy/labels_5.txt"), threads: 2))
        let (batches, reader) = try readAll(dataset, size: 2)
        XCTAssertEqual(batches.map(\.shape), [[2, 3, 20, 30], [2, 3, 20, 30], [1, 3, 20, 30]])
        XCTAssertEqual(batches.compactMap(\.labels), [[3, 1], [4, 1], [5]])
        XCTAssertEqual(batches.flatMap(\.sources), (0..<5).map { folder.path + "/\($0).png" })
        XCTAssertEqual(reader.delivered, 5)
        let reference = try NPYArray.read(path: FixturePaths.path("preprocess/tensor_raw_tiny.npy")).floats()
        XCTAssertEqual(Array(batches[2].values), reference)
        XCTAssertNil(try reader.next())
    }

    func testBadFilesStopTheRunOrAreSkippedAndCounted() throws {
        let folder = try DatasetTestFolder()
        try folder.copy("preprocess/tiny.png", to: "a.png")
        try folder.write(Data("not an image at all".utf8), to: "b.png")
        try folder.copy("preprocess/tiny.png", to: "c.png")
        let png = try FixturePaths.data("preprocess/tiny.png")
        try folder.write(Data(png.prefix(png.count / 2)), to: "d.png")
        try folder.copy("preprocess/tiny.png", to: "e.png")

        let strict = try Dataset(source: .imageFolder(path: folder.path), options: DatasetOptions(preprocess: .raw))
        XCTAssertThrowsError(try readAll(strict, size: 2)) { error in
            XCTAssertTrue(error is ImageDecodingError, "\(error)")
            XCTAssertTrue("\(error)".hasPrefix(folder.path + "/b.png: "), "\(error)")
        }

        let lenient = try Dataset(source: .imageFolder(path: folder.path),
                                  options: DatasetOptions(preprocess: .raw, labelsPath: FixturePaths.path("npy/labels_5.txt"), threads: 2, skipBad: true))
        let (batches, reader) = try readAll(lenient, size: 2)
        // Batches are refilled past skipped files: full except the last.
        XCTAssertEqual(batches.map { $0.shape[0] }, [2, 1])
        XCTAssertEqual(batches.flatMap(\.sources), ["a", "c", "e"].map { folder.path + "/\($0).png" })
        XCTAssertEqual(batches.compactMap(\.labels).flatMap { $0 }, [3, 4, 5])
        XCTAssertEqual(reader.skippedFiles.map(\.path), ["b", "d"].map { folder.path + "/\($0).png" })
        XCTAssertTrue(reader.skippedFiles.allSatisfy { !$0.reason.isEmpty })
        XCTAssertEqual(reader.delivered, 3)
    }

    func testImagesOfDifferentSizesNeedAResizeOrCrop() throws {
        let folder = try DatasetTestFolder()
        try folder.copy("preprocess/tiny.png", to: "a.png")
        try folder.copy("preprocess/camera.png", to: "b.png")
        XCTAssertThrowsError(try readAll(try Dataset(source: .imageFolder(path: folder.path), options: DatasetOptions(preprocess: .raw)), size: 2)) { error in
            XCTAssertTrue("\(error)".contains("b.png"), "\(error)")
        }
        var spec = PreprocessSpec.raw
        spec.resize = .shorterSide(16)
        spec.crop = .init(16)
        let (batches, _) = try readAll(try Dataset(source: .imageFolder(path: folder.path), options: DatasetOptions(preprocess: spec)), size: 2)
        XCTAssertEqual(batches.map(\.shape), [[2, 3, 16, 16]])
    }
}
