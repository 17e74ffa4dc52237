/// Index of a value (an activation or a constant) in `Graph.values`.
public typealias ValueID = Int

/// A named tensor in the graph: a graph input, a constant, or a node's output.
public struct Value: Sendable, Equatable {
    /// The ONNX tensor name.
    public var name: String
    public init(name: String) { self.name = name }
}

/// One operation. `inputs` may name constants (weights) or activations.
public struct Node: Sendable, Equatable {
    /// The ONNX node name (made unique by the importer when the model leaves it empty or repeats it).
    public var name: String
    public var op: Operator
    public var inputs: [ValueID]
    public var outputs: [ValueID]

    public init(name: String, op: Operator, inputs: [ValueID], outputs: [ValueID]) {
        self.name = name
        self.op = op
        self.inputs = inputs
        self.outputs = outputs
    }
}

/// How the model's image input is laid out: read from the model (PyTorch exports NCHW,
/// Keras/tf2onnx exports NHWC followed by a Transpose).
public enum InputLayout: String, Sendable, Equatable { case nchw = "NCHW", nhwc = "NHWC" }

/// A graph input whose first dimension is the batch; the other dimensions are fixed.
public struct GraphInput: Sendable, Equatable {
    public var value: ValueID
    /// The shape for one sample (everything after the batch dimension).
    public var sampleShape: [Int]
    public var layout: InputLayout
    /// The first dimension the model fixes, or nil when it is symbolic (any batch size);
    /// 0 marks a scalar (rank-0) input.
    public var declaredBatch: Int?

    /// The full shape for a batch of `batch` samples.
    public func shape(batch: Int) -> [Int] {
        if declaredBatch == 0 && sampleShape.isEmpty { return [] }
        return [declaredBatch ?? batch] + sampleShape
    }

    public init(value: ValueID, sampleShape: [Int], layout: InputLayout, declaredBatch: Int? = nil) {
        self.value = value
        self.sampleShape = sampleShape
        self.layout = layout
        self.declaredBatch = declaredBatch
    }
}

/// A clean CNN graph: nodes in topological order, shape arithmetic folded away, constants
/// (weights) attached. The batch size is not part of the graph; every runtime tensor has the
/// batch as its first dimension.
public struct Graph: Sendable {
    public var values: [Value]
    public var nodes: [Node]
    public var constants: [ValueID: Tensor]
    public var inputs: [GraphInput]
    public var outputs: [ValueID]
    /// The default ONNX domain's opset the model declared.
    public var opset: Int

    public init(values: [Value], nodes: [Node], constants: [ValueID: Tensor], inputs: [GraphInput], outputs: [ValueID], opset: Int) {
        self.values = values
        self.nodes = nodes
        self.constants = constants
        self.inputs = inputs
        self.outputs = outputs
        self.opset = opset
    }

    /// The index of the node producing each value, nil for inputs and constants.
    public func producers() -> [Int?] {
        var result = [Int?](repeating: nil, count: values.count)
        for (i, node) in nodes.enumerated() {
            for o in node.outputs { result[o] = i }
        }
        return result
    }

    /// For each value, the indices of the nodes that read it, in node order.
    public func consumers() -> [[Int]] {
        var result = [[Int]](repeating: [], count: values.count)
        for (i, node) in nodes.enumerated() {
            for v in Set(node.inputs) { result[v].append(i) }
        }
        return result
    }

    public func isConstant(_ value: ValueID) -> Bool { constants[value] != nil }

    /// Indices of the nodes whose result depends on any of `values`, in topological order: the
    /// part of the graph a perturbation of those values reaches.
    public func downstreamCone(of seeds: Set<ValueID>) -> [Int] {
        var reached = seeds
        var cone = [Int]()
        for (i, node) in nodes.enumerated() where node.inputs.contains(where: { reached.contains($0) }) {
            cone.append(i)
            for o in node.outputs { reached.insert(o) }
        }
        return cone
    }

    /// Inserts a node right after the producer of `value` that reads `value` (and `extraInputs`)
    /// and writes a new value named `value`'s name + `suffix`; every consumer of `value`, and the
    /// graph outputs, read the new value instead. How WeakSpot splices a mask or a rounding into
    /// a copy of a model. Returns the new value, nil when `value` has no producer.
    @discardableResult
    public mutating func insertAfter(_ value: ValueID, op: Operator, name: String, suffix: String, extraInputs: [ValueID] = []) -> ValueID? {
        guard let producer = nodes.firstIndex(where: { $0.outputs.contains(value) }) else { return nil }
        let new = values.count
        values.append(Value(name: values[value].name + suffix))
        for i in nodes.indices { nodes[i].inputs = nodes[i].inputs.map { $0 == value ? new : $0 } }
        outputs = outputs.map { $0 == value ? new : $0 }
        nodes.insert(Node(name: name, op: op, inputs: [value] + extraInputs, outputs: [new]), at: producer + 1)
        return new
    }

    public func node(named name: String) -> Int? { nodes.firstIndex { $0.name == name } }

    public func value(named name: String) -> ValueID? { values.firstIndex { $0.name == name } }
}
