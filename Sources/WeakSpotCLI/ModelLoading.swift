import Foundation
import Execution
import NetworkIR
import ONNXFormat

/// The options every command that reads a model shares: the ONNX reader's safety limits (their
/// error messages name these options) and `--input-shape`.
enum ModelOptions {
    static let inputShape = OptionSpec.value(
        "input-shape", "shape",
        help: "The full input shape, like 1x3x224x224, for models whose input has symbolic dimensions other than the batch; its first entry is the batch.")

    static let limits: [OptionSpec] = [
        .value("max-tensor-elements", "n", help: "Refuse ONNX tensors with more elements.", default: "1073741824"),
        .value("max-nesting-depth", "n", help: "Refuse ONNX files nesting unknown groups deeper.", default: "64"),
        .value("max-string-bytes", "n", help: "Refuse ONNX strings longer than this many bytes.", default: "16777216"),
        .value("max-initializer-bytes-ratio", "r",
               help: "Refuse ONNX files whose declared initializer bytes exceed this multiple of the file's bytes.", default: "8"),
    ]

    static func limits(_ arguments: ParsedArguments) throws(CLIError) -> ONNXLimits {
        var limits = ONNXLimits()
        limits.maxTensorElements = try arguments.integer("max-tensor-elements", default: limits.maxTensorElements, in: 1...Int.max)
        limits.maxNestingDepth = try arguments.integer("max-nesting-depth", default: limits.maxNestingDepth, in: 1...10_000)
        limits.maxStringBytes = try arguments.integer("max-string-bytes", default: limits.maxStringBytes, in: 1...Int.max)
        if let text = arguments.value("max-initializer-bytes-ratio") {
            guard let ratio = Double(text), ratio.isFinite, ratio > 0 else {
                throw arguments.usageError("--max-initializer-bytes-ratio: expected a positive number, got '\(text)'")
            }
            limits.maxTotalInitializerBytesRatio = ratio
        }
        return limits
    }

    /// `--input-shape` as integers (`1x3x224x224` or `1,3,224,224`), or nil when absent.
    static func inputShape(_ arguments: ParsedArguments) throws(CLIError) -> [Int]? {
        guard let text = arguments.value("input-shape") else { return nil }
        let parts = text.lowercased().split(whereSeparator: { $0 == "x" || $0 == "," }).map(String.init)
        let dims = parts.compactMap { Int($0) }
        guard !parts.isEmpty, dims.count == parts.count, dims.allSatisfy({ $0 > 0 && $0 <= 1 << 24 }) else {
            throw arguments.usageError("--input-shape: expected positive dimensions like 1x3x224x224, got '\(text)'")
        }
        return dims
    }
}

/// A model read from disk and imported into a graph.
struct LoadedModel {
    var path: String
    var graph: Graph

    var input: GraphInput? { graph.inputs.first }

    /// Reads and imports `path`. A missing file, bytes that are not ONNX and graphs the importer
    /// refuses throw errors naming `path` (exit code 2).
    static func load(path: String, limits: ONNXLimits, inputShape: [Int]?) throws -> LoadedModel {
        try loadWithONNX(path: path, limits: limits, inputShape: inputShape).loaded
    }

    /// `load`, also returning the ONNX model as read (for commands that rewrite it, as `prune`).
    static func loadWithONNX(path: String, limits: ONNXLimits, inputShape: [Int]?) throws -> (loaded: LoadedModel, onnx: ONNXModel) {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw CLIError.input("\(path): expected an ONNX model file, got no such file")
        }
        guard !isFolder.boolValue else {
            throw CLIError.input("\(path): " + (ForeignModelFile.identifyFolder(path) ?? "expected an ONNX model file, got a folder"))
        }
        let model = try ONNXModel.load(path: path, limits: limits)
        let graph: Graph
        do {
            graph = try Importer.importGraph(model, options: ImportOptions(inputShape: inputShape, maxTensorElements: limits.maxTensorElements))
        } catch {
            throw CLIError.input("\(path): \(error)")
        }
        guard graph.inputs.first != nil else {
            throw CLIError.input("\(path): graph: expected one image input, got none")
        }
        guard !graph.outputs.isEmpty else {
            throw CLIError.input("\(path): graph: expected at least one output, got none")
        }
        return (LoadedModel(path: path, graph: graph), model)
    }

    /// The model's cost at `batch`; shape errors name the model.
    func cost(batch: Int) throws(CLIError) -> ModelCost {
        do {
            return try graph.cost(batch: batch)
        } catch {
            throw CLIError.input("\(path): \(error)")
        }
    }

    /// An execution plan on `threads` threads; graph errors name the model.
    func plan(threads: Int) throws(CLIError) -> ExecutionPlan {
        do {
            return try ExecutionPlan(graph: graph, options: ExecutionOptions(threads: threads))
        } catch {
            throw CLIError.input("\(path): \(error)")
        }
    }
}
