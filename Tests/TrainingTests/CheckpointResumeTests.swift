import Foundation
import NetworkIR
import ONNXFormat
import Pruning
import TestSupport
import Training
import XCTest

/// A run stopped anywhere (mid-epoch included), saved and resumed in a fresh FineTuner ends with
/// exactly the parameters, optimizer state and running statistics of an uninterrupted run; a
/// damaged or foreign checkpoint is an error naming the file, never a crash.
final class CheckpointResumeTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("weakspot-ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func makeTuner(_ kind: OptimizerKind) throws -> FineTuner {
        let graph = try TrainingFixtures.graph("models/tiny_mobilenet.onnx")
        let data = try TrainingFixtures.trainingSet("models/tiny_mobilenet.input.npy", count: 4, labels: [3, 1, 7, 0], margin: 4)
        var settings = FineTuneSettings(epochs: 3, batchSize: 3, optimizer: OptimizerSettings(kind: kind, learningRate: 0.01, weightDecay: 1e-3))
        settings.schedule = .cosine
        settings.seed = 17
        settings.threads = 2
        return try FineTuner(graph: graph, settings: settings, data: data, teacher: nil)
    }

    func constants(_ tuner: FineTuner) -> [ValueID: [Float]] { tuner.graph.constants.mapValues(\.storage) }

    func testResumedRunEqualsUninterruptedRunForEveryStopPoint() throws {
        for kind in [OptimizerKind.adam, .sgd] {
            let straight = try makeTuner(kind)
            while !straight.isFinished { try straight.step() }
            XCTAssertEqual(straight.progress.history.count, 3)
            XCTAssertNotEqual(constants(straight), try constants(makeTuner(kind)), "training changed the model")
            for stop in [1, 2, 3, 5] {  // 2 steps per epoch: mid-epoch, epoch end, mid-epoch, last-but-one
                let first = try makeTuner(kind)
                for _ in 0..<stop { try first.step() }
                let path = folder.appendingPathComponent("\(kind)-\(stop).ckpt").path
                try first.checkpoint(fingerprint: "run").write(to: path)
                let resumed = try makeTuner(kind)
                try resumed.restore(try TrainingCheckpoint.read(path: path), fingerprint: "run", path: path)
                XCTAssertEqual(resumed.progress, first.progress)
                while !resumed.isFinished { try resumed.step() }
                XCTAssertEqual(constants(resumed), constants(straight), "\(kind) stopped after \(stop) steps")
                XCTAssertEqual(resumed.optimizerState, straight.optimizerState)
                XCTAssertEqual(resumed.progress.history.map(\.meanLoss), straight.progress.history.map(\.meanLoss))
            }
        }
    }

    func testForeignAndDamagedCheckpointsAreRefused() throws {
        let tuner = try makeTuner(.adam)
        try tuner.step()
        let path = folder.appendingPathComponent("good.ckpt").path
        try tuner.checkpoint(fingerprint: "run").write(to: path)
        let good = try Data(contentsOf: URL(fileURLWithPath: path))

        // Another run's checkpoint.
        XCTAssertThrowsError(try makeTuner(.adam).restore(try TrainingCheckpoint.read(path: path), fingerprint: "other", path: path)) {
            XCTAssertTrue("\($0)".contains("another run"), "\($0)")
        }
        // Another optimizer's tensors under the same fingerprint.
        XCTAssertThrowsError(try makeTuner(.sgd).restore(try TrainingCheckpoint.read(path: path), fingerprint: "run", path: path))

        func refused(_ bytes: Data, _ what: String) {
            let bad = folder.appendingPathComponent("bad.ckpt").path
            FileManager.default.createFile(atPath: bad, contents: bytes)
            XCTAssertThrowsError(try TrainingCheckpoint.read(path: bad), what) { error in
                XCTAssertTrue("\(error)".contains(bad), "\(what): the message names the file: \(error)")
            }
        }
        // Every truncation (sampled), bad magic, a header length past the end, garbage JSON, a
        // declared count larger than the file, an extra byte.
        for length in stride(from: 0, to: good.count, by: max(1, good.count / 97)) { refused(good.prefix(length), "truncated at \(length)") }
        var magic = good; magic[0] = 0x58; refused(magic, "magic")
        var header = good; for i in 8..<16 { header[i] = 0xFF }; refused(header, "header length")
        var json = good; json[17] = 0x00; refused(json, "JSON")
        let headerLength = good[8..<16].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let text = String(decoding: good[16..<(16 + headerLength)], as: UTF8.self)
        let inflated = text.replacingOccurrences(of: "\"count\":", with: "\"count\":9", options: [], range: text.range(of: "\"count\":"))
        var big = Data(good[0..<8])
        withUnsafeBytes(of: UInt64(inflated.utf8.count).littleEndian) { big.append(contentsOf: $0) }
        big.append(Data(inflated.utf8)); big.append(good[(16 + headerLength)...])
        refused(big, "inflated count")
        refused(good + Data([0]), "trailing byte")
    }

    /// Trained values written into the ONNX model come back, through a fresh import, as the
    /// graph held them; names that are not stored constants are refused.
    func testConstantsWrittenIntoTheModelReadBackExactly() throws {
        let model = try ONNXModel.load(path: FixturePaths.path("models/tiny_mobilenet.onnx"))
        let tuner = try makeTuner(.adam)
        for _ in 0..<2 { try tuner.step() }
        var values: [String: [Float]] = [:]
        for p in tuner.parameters.parameters { values[p.name] = tuner.graph.constants[p.value]!.storage }
        for slot in tuner.parameters.runningStatistics {
            values[tuner.graph.values[slot.mean].name] = tuner.graph.constants[slot.mean]!.storage
            values[tuner.graph.values[slot.variance].name] = tuner.graph.constants[slot.variance]!.storage
        }
        let written = try model.replacingFloatConstants(values)
        let reread = try Importer.importGraph(try ONNXModel.decode(written.encoded(), externalDataDirectory: nil))
        for (name, v) in values { XCTAssertEqual(reread.constants[try XCTUnwrap(reread.value(named: name))]?.storage, v, name) }
        XCTAssertEqual(try written.floatConstant(named: tuner.parameters.parameters[0].name), values[tuner.parameters.parameters[0].name])
        XCTAssertThrowsError(try model.replacingFloatConstants(["no such tensor": [1]]))
        XCTAssertThrowsError(try model.replacingFloatConstants([tuner.parameters.parameters[0].name: [1, 2]]))
    }
}
