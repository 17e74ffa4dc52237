import Foundation
import Execution
import NetworkIR
import ONNXFormat

/// The shared model options as `OptionSpec`s and values (`ModelOptionsRequest` declares them).
enum ModelOptions {
    static let inputShape = OptionSpec(ModelOptionsRequest.declaration(named: "input-shape")!)
    static let limits: [OptionSpec] = ModelOptionsRequest.declarations.filter { $0.name != "input-shape" }.map(OptionSpec.init)

    static func limits(_ arguments: ParsedArguments) throws(CLIError) -> ONNXLimits {
        try arguments.request(ModelOptionsRequest.self).limits
    }

    /// `--input-shape` as integers (`1x3x224x224` or `1,3,224,224`), or nil when absent.
    static func inputShape(_ arguments: ParsedArguments) throws(CLIError) -> [Int]? {
        try arguments.request(ModelOptionsRequest.self).inputShape
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
    /// reader's limits, `--input NAME=FILE`, `--input-shape` (or the shape of `data`, the
    /// command's `--data`, for symbolic H/W), and `--output-name`. Says on `console`'s standard
    /// error which output is used when there are several (unless `quiet`). The returned ONNX
    /// model has the fed inputs as initializers.
    static func load(path: String, _ arguments: ParsedArguments, data: String?, quiet: Bool, console: Console?) throws -> (loaded: LoadedModel, onnx: ONNXModel) {
        let options = try arguments.request(ModelOptionsRequest.self)
        let io = try arguments.request(ModelIORequest.self)
        let (model, fed) = try read(path: path, limits: options.limits, fed: ModelIOOptions.fedInputs(io))
        let shape = try ModelIOOptions.importShape(arguments, data: data, dataInput: ModelInterface.runtimeInputs(fed).first)
        var loaded = try imported(path: path, model: fed, inputShape: shape, maxTensorElements: options.limits.maxTensorElements)
        do { loaded.graph = try ModelInterface.selectingOutput(loaded.graph, name: io.outputName) } catch {
            throw CLIError.input("\(path): \(error)")
        }
        if loaded.graph.outputs.count > 1 && !quiet {
            let names = ModelInterface.outputNames(loaded.graph)
            console?.printError("\(path) has \(names.count) outputs (\(names.map { "'\($0)'" }.joined(separator: ", "))); using '\(names[0])'\(io.outputName == nil ? " (the first; choose with --output-name)" : "")")
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
