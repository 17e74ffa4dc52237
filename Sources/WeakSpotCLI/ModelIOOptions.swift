import DataInput
import Influence
import NetworkIR
import ONNXFormat

/// The options that say which inputs and outputs of a model WeakSpot uses and what the output
/// holds, declared once for every command that runs a model (`ModelInterface` and `OutputKind`
/// in the library do the work and write the errors).
enum ModelIOOptions {
    static let input = OptionSpec(ModelIORequest.declaration(named: "input")!)
    static let outputName = OptionSpec(ModelIORequest.declaration(named: "output-name")!)
    static let outputKind = OptionSpec(ModelIORequest.declaration(named: "output-kind")!)

    /// `--input NAME=FILE` and `--output-name`, for commands that stream data through a model.
    static let selection: [OptionSpec] = [input, outputName]

    /// `--output-kind` as given (nil for auto).
    static func outputKind(_ arguments: ParsedArguments) throws(CLIError) -> OutputKind? {
        try arguments.request(ModelIORequest.self).outputKind
    }

    /// Every `--input NAME=FILE`, read.
    static func fedInputs(_ request: ModelIORequest) throws(CLIError) -> [FedInput] {
        var result: [FedInput] = []
        for named in request.inputs {
            let (name, path) = (named.name, named.path)
            let array: NPYArray
            do { array = try NPYArray.read(path: path) } catch { throw CLIError.input("\(error)") }
            switch array.storage {
            case .float32(let v): result.append(FedInput(name: name, shape: array.shape, values: .floats(v)))
            case .int64(let v): result.append(FedInput(name: name, shape: array.shape, values: .int64s(v)))
            case .int32(let v): result.append(FedInput(name: name, shape: array.shape, values: .int64s(v.map(Int64.init))))
            default:
                throw CLIError.input("\(path): --input \(name): expected float32, int64 or int32 values, got \(array.dtype.rawValue)")
            }
        }
        return result
    }

    /// The full input shape to import the data input with: `--input-shape`, or, when the model
    /// leaves dimensions other than the batch symbolic, the shape `data` (the command's `--data`)
    /// will have — a float `.npy`'s own shape, or for images the crop (`--crop`, an exact
    /// `--resize HxW`, or the preset's 224×224) with the channels the model fixes (3 when it
    /// fixes none). Nil when nothing is symbolic or nothing says the size (the importer then
    /// asks for --input-shape).
    static func importShape(_ arguments: ParsedArguments, data: String?, dataInput: ONNXValueInfo?) throws(CLIError) -> [Int]? {
        if let explicit = try ModelOptions.inputShape(arguments) { return explicit }
        guard let dims = dataInput?.shape, dims.count >= 2,
              dims.dropFirst().contains(where: { if case .value(let v) = $0 { return v <= 0 }; return true }),
              let data, !data.hasPrefix("synthetic:") else { return nil }
        func fixed(_ i: Int) -> Int? { if case .value(let v) = dims[i], v > 0 { return v }; return nil }
        if data.lowercased().hasSuffix(".npy") {
            let header: NPYHeader
            do { header = try NPYFileReader(path: data).header } catch { throw CLIError.input("\(error)") }
            if header.dtype != .uint8 {
                guard header.shape.count == dims.count else {
                    throw CLIError.input("\(data): expected inputs of rank \(dims.count) as the model's input '\(dataInput?.name ?? "")' takes, got shape \(header.shape)")
                }
                return [1] + header.shape.dropFirst()
            }
        }
        guard dims.count == 4, let (height, width) = try arguments.request(PreprocessRequest.self).fixedImageSize else { return nil }
        if fixed(1) == nil, let channels = fixed(3) { return [1, height, width, channels] }
        return [1, fixed(1) ?? 3, height, width]
    }
}
