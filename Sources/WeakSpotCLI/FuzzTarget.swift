import DataInput
import Foundation
import NetworkIR
import ONNXFormat
import Training

/// One parser under fuzzing. Every target takes arbitrary bytes and must return normally: a
/// thrown error is the expected outcome for bad input; a trap, a sanitizer report, a hang or
/// unbounded memory is a bug (docs/reliability.md). Here rather than in `weakspot-fuzz` so that
/// the suite replays the committed seeds and crash inputs through the same calls.
public enum FuzzTarget: String, CaseIterable, Sendable {
    case onnx, graph, npy, png, inflate, jpeg, ppm, report, plan, cli, checkpoint

    /// Lower than the command-line defaults so that one input cannot take the fuzzer past its
    /// memory limit by declaring a legal but huge image (the limit checks themselves are tested).
    static let imageLimits = ImageLimits(maxPixels: 1 << 22)
    static let onnxLimits = ONNXLimits(maxTensorElements: 1 << 24, maxStringBytes: 1 << 20)

    /// Runs the parser once; returns whether the input was accepted (for replay statistics).
    @discardableResult
    public func run(_ bytes: [UInt8]) -> Bool {
        switch self {
        case .onnx:
            guard let model = try? ONNXModel.decode(bytes, externalDataDirectory: nil, limits: Self.onnxLimits) else { return false }
            // Converting the initializers reaches the typed-data decoding the importer uses.
            for tensor in model.graph.initializers {
                if tensor.dataType == .int64 { _ = try? tensor.int64s() } else { _ = try? tensor.floats() }
            }
            return true
        case .graph:
            // The importer on whatever decodes: operator checks, constant folding, shapes.
            guard let model = try? ONNXModel.decode(bytes, externalDataDirectory: nil, limits: Self.onnxLimits) else { return false }
            return (try? Importer.importGraph(model, options: ImportOptions(maxTensorElements: Self.onnxLimits.maxTensorElements))) != nil
        case .npy:
            return (try? NPYArray.decode(bytes)) != nil
        case .png:
            return (try? PNGDecoder.decode(bytes, limits: Self.imageLimits)) != nil
        case .inflate:
            return (try? ZlibInflater.inflate(bytes, expectedSize: nil, maxSize: 1 << 22)) != nil
        case .jpeg:
            return (try? JPEGDecoder.decode(bytes, limits: Self.imageLimits)) != nil
        case .ppm:
            return (try? PPMDecoder.decode(bytes, limits: Self.imageLimits)) != nil
        case .report:
            return FuzzEntryPoints.readReport(bytes)
        case .plan:
            return FuzzEntryPoints.readPlan(bytes)
        case .cli:
            return FuzzEntryPoints.scanArguments(bytes)
        case .checkpoint:
            return (try? TrainingCheckpoint.decode(Data(bytes), path: "fuzz")) != nil
        }
    }
}
