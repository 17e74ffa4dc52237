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

    /// Loads `path` with every model option of `arguments` that the command declares: the
    /// reader's limits, `--input NAME=FILE`, `--input-shape` (or the data's shape for symbolic
    /// H/W), and `--output-name`. Says on `console`'s standard error which output is used when
    /// there are several. The returned ONNX model has the fed inputs as initializers.
    static func load(path: String, _ arguments: ParsedArguments, console: Console?) throws -> (loaded: LoadedModel, onnx: ONNXModel) {
        let limits = try ModelOptions.limits(arguments)
        let (model, fed) = try read(path: path, limits: limits, fed: ModelIOOptions.fedInputs(arguments))
        let shape = try ModelIOOptions.importShape(arguments, dataInput: ModelInterface.runtimeInputs(fed).first)
        var loaded = try imported(path: path, model: fed, inputShape: shape, maxTensorElements: limits.maxTensorElements)
        do { loaded.graph = try ModelInterface.selectingOutput(loaded.graph, name: arguments.value("output-name")) } catch {
            throw CLIError.input("\(path): \(error)")
        }
        if loaded.graph.outputs.count > 1 && !arguments.flag("quiet") {
            let names = ModelInterface.outputNames(loaded.graph)
            console?.printError("\(path) has \(names.count) outputs (\(names.map { "'\($0)'" }.joined(separator: ", "))); using '\(names[0])'\(arguments.value("output-name") == nil ? " (the first; choose with --output-name)" : "")")
        }
        return (loaded, fed)
    }

    /// Reads the ONNX file and feeds `fed` inputs (`ModelInterface.feeding`, which also refuses a
    /// model left with several inputs): the model as read and the model with the fed inputs as
    /// initializers. `fed` nil (commands that only read the graph: count, prune) checks nothing.
    static func read(path: String, limits: ONNXLimits, fed: [FedInput]?) throws -> (read: ONNXModel, fed: ONNXModel) {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw CLIError.input("\(path): expected an ONNX model file, got no such file")
        }
        guard !isFolder.boolValue else {
            throw CLIError.input("\(path): " + (ForeignModelFile.identifyFolder(path) ?? "expected an ONNX model file, got a folder"))
        }
        let model = try ONNXModel.load(path: path, limits: limits)
        guard let fed else { return (model, model) }
        do { return (model, try ModelInterface.feeding(model, fed)) } catch { throw CLIError.input("\(path): \(error)") }
    }

    /// `load`, also returning the ONNX model as read (for commands that rewrite it, as `prune`).
    static func loadWithONNX(path: String, limits: ONNXLimits, inputShape: [Int]?) throws -> (loaded: LoadedModel, onnx: ONNXModel) {
        let (model, _) = try read(path: path, limits: limits, fed: nil)
        return (try imported(path: path, model: model, inputShape: inputShape, maxTensorElements: limits.maxTensorElements), model)
    }

    /// Imports `model` read from `path` under the reader's `--max-tensor-elements`; importer
    /// errors name `path`.
    static func imported(path: String, model: ONNXModel, inputShape: [Int]?, maxTensorElements: Int) throws(CLIError) -> LoadedModel {
        let graph: Graph
        do {
            graph = try Importer.importGraph(model, options: ImportOptions(inputShape: inputShape, maxTensorElements: maxTensorElements))
        } catch {
            throw CLIError.input("\(path): \(error)")
        }
        guard graph.inputs.first != nil else {
            throw CLIError.input("\(path): graph: expected one image input, got none")
        }
        guard !graph.outputs.isEmpty else {
            throw CLIError.input("\(path): graph: expected at least one output, got none")
        }
        return LoadedModel(path: path, graph: graph)
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
