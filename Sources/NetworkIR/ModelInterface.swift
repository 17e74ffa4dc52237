import ONNXFormat

/// A graph input given a fixed value by the user (`--input NAME=FILE`).
public struct FedInput: Sendable, Equatable {
    public enum Values: Sendable, Equatable {
        case floats([Float])
        case int64s([Int64])
    }

    public var name: String
    public var shape: [Int]
    public var values: Values

    public init(name: String, shape: [Int], values: Values) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// Which of a model's inputs and outputs WeakSpot uses, and the errors that name them.
///
/// WeakSpot streams data into exactly one graph input (the image input). Every other input must
/// be fed a value with `--input NAME=FILE`: that value is the same for every sample, so it is
/// attached to the model as an initializer before import — the importer then treats it like
/// any weight or shape constant (it can be folded, broadcast or read by a Conv). Inputs that
/// already have an initializer (IR < 4 models list their weights as inputs) are not inputs.
///
/// Of several outputs, metrics and `run` use one: the first, or the one `--output-name` picks.
/// The selection moves it to the front of `Graph.outputs` and keeps the others, so that channel
/// analysis still sees every output (a channel feeding another output stays tied to it).
public enum ModelInterface {
    /// The declared inputs that no initializer fills and some node reads: what a user must feed
    /// (an input no node reads changes nothing, so it is not asked for).
    public static func runtimeInputs(_ model: ONNXModel) -> [ONNXValueInfo] {
        let initialized = Set(model.graph.initializers.map(\.name))
        let read = Set(model.graph.nodes.flatMap(\.inputs))
        return model.graph.inputs.filter { !initialized.contains($0.name) && read.contains($0.name) }
    }

    /// `name: 1x3xHxW float` for messages.
    public static func describe(_ info: ONNXValueInfo) -> String {
        let shape = info.shape.map { $0.map(\.description).joined(separator: "x") } ?? "unknown shape"
        let type = info.elementType.map { "\($0)" } ?? "unknown type"
        return "'\(info.name)' (\(shape) \(type))"
    }

    /// `model` with each fed input turned into an initializer of its value, after checking that
    /// every name is a runtime input, that the values fit its declared type and shape, and that
    /// exactly one runtime input — the data input — is left.
    public static func feeding(_ model: ONNXModel, _ fed: [FedInput]) throws(GraphError) -> ONNXModel {
        let inputs = runtimeInputs(model)
        var seen = Set<String>()
        var copy = model
        for f in fed {
            guard seen.insert(f.name).inserted else { throw GraphError(.input, "--input \(f.name) is given twice") }
            guard let info = inputs.first(where: { $0.name == f.name }) else {
                throw GraphError(.input, "--input \(f.name): the model has no input of that name; its inputs are \(inputs.map(describe).joined(separator: ", "))")
            }
            try check(f, against: info)
            switch f.values {
            case .floats(let v): copy.graph.initializers.append(ONNXTensor(name: f.name, floats: v, dims: f.shape))
            case .int64s(let v): copy.graph.initializers.append(ONNXTensor(name: f.name, int64s: v, dims: f.shape))
            }
        }
        let left = inputs.filter { !seen.contains($0.name) }
        guard left.count == 1 || (fed.isEmpty && left.isEmpty) else {
            if left.isEmpty {
                throw GraphError(.input, "every input is given with --input; one must be left for --data (the model's inputs are \(inputs.map(describe).joined(separator: ", ")))")
            }
            throw GraphError(.input, "WeakSpot feeds --data to one input, but the model has \(left.count) left: \(left.map(describe).joined(separator: ", ")); give the others with --input NAME=FILE.npy")
        }
        return copy
    }

    /// The declared element type and fixed dimensions must match the value given.
    static func check(_ fed: FedInput, against info: ONNXValueInfo) throws(GraphError) {
        let expectedType: ONNXDataType
        switch fed.values {
        case .floats: expectedType = .float
        case .int64s: expectedType = .int64
        }
        if let type = info.elementType, type != expectedType {
            throw GraphError(.input, "--input \(fed.name): expected a .npy of \(type) values as the model declares, got \(expectedType)")
        }
        let count: Int
        switch fed.values {
        case .floats(let v): count = v.count
        case .int64s(let v): count = v.count
        }
        guard count == fed.shape.reduce(1, *) else {
            throw GraphError(.input, "--input \(fed.name): \(count) values do not fill the shape \(fed.shape)")
        }
        guard let declared = info.shape else { return }
        let fits = declared.count == fed.shape.count && zip(declared, fed.shape).allSatisfy { d, s in
            if case .value(let v) = d { return v == s }
            return true
        }
        guard fits else {
            throw GraphError(.input, "--input \(fed.name): expected a value shaped \(declared.map(\.description).joined(separator: "x")), got \(fed.shape.map(String.init).joined(separator: "x"))")
        }
    }

    /// `graph` with the output called `name` first (nil: unchanged). An unknown name throws an
    /// error listing the outputs.
    public static func selectingOutput(_ graph: Graph, name: String?) throws(GraphError) -> Graph {
        guard let name else { return graph }
        guard let index = graph.outputs.firstIndex(where: { graph.values[$0].name == name }) else {
            throw GraphError(.input, "--output-name \(name): the model has no output of that name; its outputs are \(outputNames(graph).map { "'\($0)'" }.joined(separator: ", "))")
        }
        var copy = graph
        let chosen = copy.outputs.remove(at: index)
        copy.outputs.insert(chosen, at: 0)
        return copy
    }

    /// The graph's output tensor names, in order.
    public static func outputNames(_ graph: Graph) -> [String] {
        graph.outputs.map { graph.values[$0].name }
    }
}
