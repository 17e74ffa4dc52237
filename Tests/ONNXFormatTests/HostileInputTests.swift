import Foundation
import ONNXFormat
import TestSupport
import XCTest

/// Malformed and malicious inputs: each must throw `ONNXError` naming the place; none may crash.
final class HostileInputTests: XCTestCase {
    private let fixtureFolder = FixturePaths.path("onnx")

    private func expectError(_ fixture: String, _ kind: ONNXError.Kind, _ fragments: [String],
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ONNXModel.load(path: FixturePaths.path("onnx/\(fixture)")), file: file, line: line) { error in
            guard let error = error as? ONNXError else { return XCTFail("not an ONNXError: \(error)", file: file, line: line) }
            XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
            XCTAssertTrue(error.description.hasPrefix(FixturePaths.path("onnx/\(fixture)") + ": "), "\(error)", file: file, line: line)
            for fragment in fragments {
                XCTAssertTrue(error.description.contains(fragment), "'\(fragment)' missing from: \(error)", file: file, line: line)
            }
        }
    }

    func testTruncationAtEveryOffsetThrows() throws {
        let bytes = try FixturePaths.data("onnx/small_model.onnx")
        let manifest = try SmallModelTests.manifest()
        XCTAssertEqual(bytes.count, manifest.fileSize)
        // Cuts that end a top-level field after the graph and the first opset leave a valid,
        // shorter model (protobuf has no end marker); every other cut must throw.
        let fields = manifest.topLevelFields
        let firstOpset = try XCTUnwrap(fields.firstIndex { $0.field == 8 })
        let validCuts = Set(fields[firstOpset...].map(\.end))
        let full = try ONNXModel.decode(bytes, externalDataDirectory: fixtureFolder)
        var thrown = 0
        for cut in 0..<bytes.count {
            do {
                let model = try ONNXModel.decode(Array(bytes[0..<cut]), externalDataDirectory: fixtureFolder)
                XCTAssertTrue(validCuts.contains(cut), "cut at \(cut) decoded without error")
                XCTAssertEqual(model.graph, full.graph)
            } catch is ONNXError {
                thrown += 1
            } catch {
                XCTFail("cut at \(cut): not an ONNXError: \(error)")
            }
        }
        XCTAssertEqual(thrown, bytes.count - (validCuts.count - 1))
    }

    func testRandomBytesThrow() {
        var random = SplitMix64(seed: 2024)
        for trial in 0..<3000 {
            let count = Int(random.next() % 400)
            let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            do {
                _ = try ONNXModel.decode(bytes, externalDataDirectory: nil)
                XCTFail("random bytes #\(trial) decoded")
            } catch let error as ONNXError {
                XCTAssertFalse(error.message.isEmpty)
            } catch {
                XCTFail("random bytes #\(trial): not an ONNXError: \(error)")
            }
        }
    }

    func testMutatedValidFileNeverCrashes() throws {
        let original = try FixturePaths.data("onnx/small_model.onnx")
        var random = SplitMix64(seed: 7)
        var decoded = 0, refused = 0
        for _ in 0..<3000 {
            var bytes = original
            for _ in 0..<(1 + Int(random.next() % 4)) {
                let at = Int(random.next() % UInt64(bytes.count))
                bytes[at] = UInt8(truncatingIfNeeded: random.next())
            }
            do {
                let model = try ONNXModel.decode(bytes, externalDataDirectory: fixtureFolder)
                for tensor in model.graph.initializers { _ = try? tensor.floats(); _ = try? tensor.int64s() }
                decoded += 1
            } catch is ONNXError {
                refused += 1
            } catch {
                XCTFail("not an ONNXError: \(error)")
            }
        }
        XCTAssertEqual(decoded + refused, 3000)
        XCTAssertGreaterThan(refused, 0)
    }

    func testTensorDeclaringTenToTheTwelveElements() {
        expectError("huge_tensor.onnx", .limitExceeded, [
            "in graph.initializer[0] 'huge'",
            "tensor declares 1000000000000 elements, limit 1073741824 (raise with --max-tensor-elements)",
        ])
    }

    func testNegativeDims() {
        expectError("negative_dims.onnx", .malformed, ["graph.initializer[0] 'neg'", "negative dim -3 in dims [2, -3]"])
    }

    func testRawDataShorterThanDims() {
        expectError("short_raw.onnx", .malformed, ["graph.initializer[0] 'short'", "raw_data holds 8 bytes", "need 12"])
    }

    func testSparseInitializerIsUnsupported() {
        expectError("sparse_initializer.onnx", .unsupported, ["graph.sparse_initializer", "not supported"])
    }

    func testExternalDataLeavingTheFolder() {
        expectError("ext_parent.onnx", .externalData, ["graph.initializer[0] 'w.ext'", "'../x' leaves the model folder"])
        expectError("ext_absolute.onnx", .externalData, ["graph.initializer[0] 'w.ext'", "'/etc/passwd' must be relative"])
        expectError("ext_past_end.onnx", .externalData, ["offset 8 + length 16 runs past the end", "(20 bytes)"])
    }

    func testExternalDataSymlinkLeavingTheFolder() throws {
        let fm = FileManager.default
        let root = fm.temporaryDirectory.appendingPathComponent("onnx-symlink-\(getpid())")
        let folder = root.appendingPathComponent("model")
        try? fm.removeItem(at: root)
        try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: root) }
        try Data(count: 16).write(to: root.appendingPathComponent("outside.bin"))
        try fm.createSymbolicLink(atPath: folder.appendingPathComponent("escape.bin").path, withDestinationPath: "../outside.bin")
        let modelPath = folder.appendingPathComponent("model.onnx").path
        try Data(FixturePaths.data("onnx/ext_symlink.onnx")).write(to: URL(fileURLWithPath: modelPath))
        XCTAssertThrowsError(try ONNXModel.load(path: modelPath)) { error in
            let error = error as? ONNXError
            XCTAssertEqual(error?.kind, .externalData)
            XCTAssertTrue(error?.description.contains("'escape.bin' resolves to") ?? false, "\(String(describing: error))")
            XCTAssertTrue(error?.description.contains("outside the model folder") ?? false)
        }
        // The same link pointing inside the folder is accepted.
        try fm.removeItem(atPath: folder.appendingPathComponent("escape.bin").path)
        try Data(count: 16).write(to: folder.appendingPathComponent("inside.bin"))
        try fm.createSymbolicLink(atPath: folder.appendingPathComponent("escape.bin").path, withDestinationPath: "inside.bin")
        let model = try ONNXModel.load(path: modelPath)
        XCTAssertEqual(try model.graph.initializers[0].floats(), [0, 0, 0, 0])
    }

    func testMissingFileIsAnIOError() {
        XCTAssertThrowsError(try ONNXModel.load(path: "/nonexistent/model.onnx")) { error in
            XCTAssertEqual((error as? ONNXError)?.kind, .io)
            XCTAssertEqual("\(error)", "/nonexistent/model.onnx: cannot open the file (No such file or directory)")
        }
    }

    func testInconsistentTensorsBuiltInCodeThrowOnRead() {
        let short = ONNXTensor(name: "w", dataType: .float, dims: [3], data: .raw([0, 0, 0, 0]))
        XCTAssertThrowsError(try short.floats()) { error in
            XCTAssertEqual("\(error)", "in tensor 'w': raw_data holds 4 bytes, dims [3] of float need 12")
        }
        let wrongField = ONNXTensor(name: "k", dataType: .int64, dims: [1], data: .floatData([1]))
        XCTAssertThrowsError(try wrongField.int64s())
        let big = ONNXTensor(name: "u", dataType: .uint64, dims: [1], data: .uint64Data([UInt64.max]))
        XCTAssertThrowsError(try big.int64s()) { error in
            XCTAssertTrue("\(error)".contains("does not fit in int64"))
        }
        XCTAssertEqual(try big.floats(), [Float(UInt64.max)])
    }
}

/// A small seeded generator (SplitMix64) so fuzz cases are the same on every run.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
