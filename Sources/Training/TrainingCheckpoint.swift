import Foundation
import Influence
import Support

/// Where a run stands, saved with the tensors so a resumed run continues the same sequence of
/// updates: completed epochs, the next step within the current one, and the loss so far.
public struct TrainingProgress: Sendable, Equatable, Codable {
    public var epochsDone = 0
    public var stepInEpoch = 0
    public var globalStep = 0
    /// Sum and count of the current epoch's batch losses (weighted by batch size).
    public var lossSum = 0.0
    public var lossCount = 0
    public var history: [EpochRecord] = []
    /// The best validation so far (ModelSelection.swift); nil before the first validation.
    public var best: BestEpoch? = nil
    public var epochsSinceBest = 0
    /// Set when `--early-stop` ended the run before its last epoch.
    public var stoppedEarly = false
    /// The rate `LearningRateProbe` chose, when `--lr` was not given.
    public var probedLearningRate: Float? = nil
    public init() {}

    enum CodingKeys: String, CodingKey {
        case epochsDone, stepInEpoch, globalStep, lossSum, lossCount, history, best, epochsSinceBest, stoppedEarly, probedLearningRate
    }

    /// The selection fields came later: a checkpoint written before them still reads (its
    /// fingerprint then says whether it belongs to this run).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epochsDone = try c.decode(Int.self, forKey: .epochsDone)
        stepInEpoch = try c.decode(Int.self, forKey: .stepInEpoch)
        globalStep = try c.decode(Int.self, forKey: .globalStep)
        lossSum = try c.decode(Double.self, forKey: .lossSum)
        lossCount = try c.decode(Int.self, forKey: .lossCount)
        history = try c.decode([EpochRecord].self, forKey: .history)
        best = try c.decodeIfPresent(BestEpoch.self, forKey: .best)
        epochsSinceBest = try c.decodeIfPresent(Int.self, forKey: .epochsSinceBest) ?? 0
        stoppedEarly = try c.decodeIfPresent(Bool.self, forKey: .stoppedEarly) ?? false
        probedLearningRate = try c.decodeIfPresent(Float.self, forKey: .probedLearningRate)
    }
}

/// One finished epoch, as the summary prints it.
public struct EpochRecord: Sendable, Equatable, Codable {
    public var epoch: Int
    public var meanLoss: Double
    public var learningRate: Float
    public var seconds: Double
    public var validation: Evaluation?
}

/// A binary checkpoint: `WSTUNE01`, the header length (UInt64, little-endian), a JSON header
/// (schema, run fingerprint, progress, optimizer step, and the name and length of each tensor),
/// then the tensors' float32 values, little-endian, in header order. Written atomically; read
/// with every length checked against the file before anything is allocated.
public struct TrainingCheckpoint: Sendable, Equatable {
    static let magic = Array("WSTUNE01".utf8)
    static let schema = "weakspot.finetune-checkpoint/1"

    public var fingerprint: String
    public var progress: TrainingProgress
    public var optimizerStep: Int
    public var tensors: [(name: String, values: [Float])]

    struct Header: Codable {
        var schema: String
        var fingerprint: String
        var progress: TrainingProgress
        var optimizerStep: Int
        var tensors: [Entry]
        struct Entry: Codable { var name: String; var count: Int }
    }

    public init(fingerprint: String, progress: TrainingProgress, optimizerStep: Int, tensors: [(name: String, values: [Float])]) {
        self.fingerprint = fingerprint
        self.progress = progress
        self.optimizerStep = optimizerStep
        self.tensors = tensors
    }

    public static func == (a: TrainingCheckpoint, b: TrainingCheckpoint) -> Bool {
        a.fingerprint == b.fingerprint && a.progress == b.progress && a.optimizerStep == b.optimizerStep
            && a.tensors.map(\.name) == b.tensors.map(\.name) && a.tensors.map(\.values) == b.tensors.map(\.values)
    }

    public func encoded() throws(TrainingError) -> Data {
        let header = Header(schema: Self.schema, fingerprint: fingerprint, progress: progress, optimizerStep: optimizerStep,
                            tensors: tensors.map { Header.Entry(name: $0.name, count: $0.values.count) })
        let json: Data
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        do { json = try encoder.encode(header) } catch { throw TrainingError("checkpoint: cannot encode the header: \(error)") }
        var data = Data(Self.magic)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for t in tensors {
            #if _endian(little)
            t.values.withUnsafeBufferPointer { data.append($0) }
            #else
            for v in t.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            #endif
        }
        return data
    }

    public func write(to path: String) throws(TrainingError) {
        let data = try encoded()
        do { try AtomicFile.write(data, to: path) } catch { throw TrainingError("checkpoint: \(error)") }
    }

    /// Reads a checkpoint; every malformed or foreign file is a `TrainingError` naming `path`.
    public static func read(path: String) throws(TrainingError) -> TrainingCheckpoint {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe) } catch {
            throw TrainingError("\(path): cannot read the checkpoint: \(error.localizedDescription)")
        }
        return try decode(data, path: path)
    }

    /// Decodes checkpoint bytes; `path` names them in errors.
    public static func decode(_ data: Data, path: String) throws(TrainingError) -> TrainingCheckpoint {
        let bytes = [UInt8](data.prefix(16))
        guard bytes.count == 16, Array(bytes[0..<8]) == magic else {
            throw TrainingError("\(path): byte 0: expected a WeakSpot fine-tuning checkpoint (WSTUNE01), got something else")
        }
        var length: UInt64 = 0
        for (i, b) in bytes[8..<16].enumerated() { length |= UInt64(b) << (8 * UInt64(i)) }
        guard length <= UInt64(data.count - 16) else {
            throw TrainingError("\(path): byte 8: header length \(length) runs past the end of the \(data.count)-byte file")
        }
        let headerEnd = 16 + Int(length)
        let header: Header
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        do { header = try decoder.decode(Header.self, from: data.subdata(in: 16..<headerEnd)) } catch {
            throw TrainingError("\(path): byte 16: expected the checkpoint's JSON header: \(error)")
        }
        guard header.schema == schema else { throw TrainingError("\(path): header: expected schema \(schema), got \(header.schema)") }
        var expectedBytes = 0
        for entry in header.tensors {
            guard entry.count >= 0, entry.count <= (data.count - headerEnd) / 4 else {
                throw TrainingError("\(path): header: tensor '\(entry.name)' declares \(entry.count) values, more than the file holds")
            }
            expectedBytes += entry.count * 4
            guard expectedBytes <= data.count - headerEnd else {
                throw TrainingError("\(path): header: the tensors declare more values than the file holds")
            }
        }
        guard expectedBytes == data.count - headerEnd else {
            throw TrainingError("\(path): expected \(expectedBytes) bytes of tensor values after the header, got \(data.count - headerEnd)")
        }
        guard header.optimizerStep >= 0, header.progress.epochsDone >= 0, header.progress.stepInEpoch >= 0, header.progress.globalStep >= 0 else {
            throw TrainingError("\(path): header: negative step counts")
        }
        var tensors: [(name: String, values: [Float])] = []
        var offset = headerEnd
        data.withUnsafeBytes { raw in
            for entry in header.tensors {
                var values = [Float](repeating: 0, count: entry.count)
                values.withUnsafeMutableBytes { target in
                    target.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + entry.count * 4)]))
                }
                #if !_endian(little)
                values = values.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) }
                #endif
                tensors.append((entry.name, values))
                offset += entry.count * 4
            }
        }
        return TrainingCheckpoint(fingerprint: header.fingerprint, progress: header.progress, optimizerStep: header.optimizerStep, tensors: tensors)
    }
}
