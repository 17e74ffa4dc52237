import ONNXFormat

/// Options that the model cannot tell the importer.
public struct ImportOptions: Sendable {
    /// A full input shape (the batch entry is ignored) for models whose input has symbolic
    /// dimensions other than the batch.
    public var inputShape: [Int]?
    /// The most elements a tensor the import makes may have (`--max-tensor-elements`): a
    /// `ConstantOfShape` fill, a folded `Range`, and every activation at batch 1 (a Resize to 1e9
    /// pixels or a Tile by 1e6 is refused before anything is allocated). One option governs every
    /// tensor of the model.
    public var maxTensorElements: Int
    public init(inputShape: [Int]? = nil, maxTensorElements: Int = ONNXLimits().maxTensorElements) {
        self.inputShape = inputShape
        self.maxTensorElements = maxTensorElements
    }
}

/// Turns an ONNX model into a clean `Graph`: shape arithmetic folded to constants, Identity,
/// Dropout and float Casts removed, attributes checked, shapes inferred.
///
/// Folding runs the import twice in step, in a world with batch 1 and a world with batch 2, so
/// that a reshape target computed from `Shape(x)` can be told apart into fixed sizes and
/// multiples of the batch without symbolic arithmetic.
public enum Importer {
    /// Every ONNX operator the importer accepts (folded ones included), for the error message.
    public static let supportedOperators: [String] = ([
        "Add", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat", "Constant", "ConstantOfShape",
        "Conv", "DequantizeLinear", "Div", "Dropout", "Flatten", "Gather", "Gemm", "GlobalAveragePool", "HardSigmoid",
        "HardSwish", "Identity", "LeakyRelu", "MatMul", "MaxPool", "Mul", "Pad", "QuantizeLinear", "ReduceMean", "Relu",
        "Reshape", "Shape", "Sigmoid", "Slice", "Squeeze", "Sub", "Tanh", "Transpose", "Unsqueeze",
        // Structural, normalization and resampling operators (docs/operators.md).
        "ConvTranspose", "Equal", "Expand", "Greater", "InstanceNormalization", "LRN", "Less", "ReduceMax", "ReduceSum",
        "Resize", "Split", "Tile", "Upsample", "Where",
    ] + OperatorBuilder.elementwiseOperators).sorted()

    public static func importGraph(_ model: ONNXModel, options: ImportOptions = .init()) throws(GraphError) -> Graph {
        var state = ImportState(opset: Int(model.opsetVersion(domain: "") ?? 17), maxTensorElements: options.maxTensorElements)
        try state.run(model.graph, options: options)
        return try state.finish(model.graph)
    }

    static func sliceAttributes(starts: [Int], ends: [Int], axes: [Int], steps: [Int], rank: Int) throws(GraphError) -> SliceAttributes {
        guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count else {
            throw GraphError(.attribute, "Slice starts/ends/axes/steps have different lengths")
        }
        guard steps.allSatisfy({ $0 != 0 }) else { throw GraphError(.attribute, "Slice step 0") }
        let clampedStarts = starts.map { max(min($0, 1 << 40), -(1 << 40)) }
        let clampedEnds = ends.map { max(min($0, 1 << 40), -(1 << 40)) }
        let normAxes = axes.map { $0 < 0 ? $0 + rank : $0 }
        guard normAxes.allSatisfy({ $0 >= 0 && $0 < rank }), Set(normAxes).count == normAxes.count else {
            throw GraphError(.attribute, "Slice axes \(axes) out of range for rank \(rank)")
        }
        return SliceAttributes(starts: clampedStarts, ends: clampedEnds, axes: normAxes, steps: steps)
    }
}

/// What the importer knows about an ONNX tensor name.
enum KnownValue {
    /// An activation, with its shapes in the batch-1 and batch-2 worlds.
    case runtime(ValueID, [Int], [Int])
    /// A float tensor known at import: an initializer, a float `Constant` node, or a float value
    /// folded from constants (a `ConstantOfShape` fill, a `DequantizeLinear` of an int8 weight).
    /// Whether it is a weight or a step of shape arithmetic is decided by the node that uses it,
    /// never by its size: folding reads it back through `constant(world:)`. `origin` names the
    /// tensor it came from, so that aliases (Identity of a shared initializer) stay one constant.
    case weight(Tensor, origin: String)
    /// A value computed at import time, in the batch-1 and batch-2 worlds.
    case folded(ConstantValue, ConstantValue)

    func constant(world: Int) -> ConstantValue? {
        switch self {
        case .runtime: return nil
        case .weight(let t, _): return ConstantValue(tensor: t)
        case .folded(let a, let b): return world == 1 ? a : b
        }
    }
}

struct ImportState {
    let opset: Int
    let maxTensorElements: Int
    var values: [Value] = []
    var nodes: [Node] = []
    var constants: [ValueID: Tensor] = [:]
    var known: [String: KnownValue] = [:]
    var weightIDs: [String: ValueID] = [:]
    /// The ONNX data type of integer constants (initializers, Constant nodes, aliases), which
    /// QuantizeLinear/DequantizeLinear need: the range of a zero point is that of its type.
    var dataTypes: [String: ONNXDataType] = [:]
    /// QuantizeLinear outputs of activations, waiting for the DequantizeLinear that reads them.
    var quantizedActivations: [String: PendingQuantization] = [:]
    var inputs: [GraphInput] = []
    var usedNodeNames: Set<String> = []

    init(opset: Int, maxTensorElements: Int) {
        self.opset = opset
        self.maxTensorElements = maxTensorElements
    }

    mutating func newValue(_ name: String) -> ValueID {
        values.append(Value(name: name))
        return values.count - 1
    }

    mutating func run(_ graph: ONNXGraph, options: ImportOptions) throws(GraphError) {
        for t in graph.initializers {
            switch t.dataType {
            case .float, .float16, .double, .bfloat16:
                known[t.name] = .weight(Tensor(shape: t.dims, storage: try FloatTensorReading.floats(t)), origin: t.name)
            default:
                let c = try ConstantValue(onnx: t)
                known[t.name] = .folded(c, c)
                dataTypes[t.name] = t.dataType
            }
        }
        // IR < 4 lists every initializer among the graph inputs too; such an input is a constant
        // (WeakSpot feeds only image inputs, never an initializer's name).
        for info in graph.inputs where known[info.name] == nil {
            if info.elementType == .double {
                throw GraphError(.input, "input '\(info.name)' is float64; WeakSpot computes in float32 and would narrow it silently: export the model in float32 (model.float() before torch.onnx.export)")
            }
            try addInput(info, options: options)
        }
        guard !inputs.isEmpty else { throw GraphError(.input, "the graph has no input that is not an initializer") }
        for (index, onnxNode) in try topologicalOrder(graph).enumerated() {
            let name = uniqueName(onnxNode.name, opType: onnxNode.opType, index: index)
            do {
                try importNode(onnxNode, name: name)
            } catch {
                throw error.at("\(name) (\(onnxNode.opType))")
            }
        }
    }

    mutating func addInput(_ info: ONNXValueInfo, options: ImportOptions) throws(GraphError) {
        var dims: [Int] = []
        // The first dimension is the batch when it is symbolic; a model exported with a fixed
        // first dimension keeps it in both worlds (its Reshape targets are then fixed too).
        var batched = options.inputShape != nil
        if let shape = info.shape {
            for (i, d) in shape.enumerated() {
                switch d {
                case .value(let v) where v > 0: dims.append(v)
                default:
                    if i == 0 { dims.append(1); batched = true } else if let given = options.inputShape, i < given.count { dims.append(given[i]) } else {
                        throw GraphError(.input, "input '\(info.name)' has a symbolic dimension \(i) other than the batch; give --input-shape")
                    }
                }
            }
        }
        if let given = options.inputShape {
            guard given.count == dims.count || info.shape == nil else {
                throw GraphError(.input, "--input-shape has rank \(given.count), input '\(info.name)' has rank \(dims.count)")
            }
            dims = given
        }
        guard info.shape != nil || !dims.isEmpty else { throw GraphError(.input, "input '\(info.name)' has no shape; give --input-shape") }
        if dims.isEmpty {
            let id = newValue(info.name)
            known[info.name] = .runtime(id, [], [])
            inputs.append(GraphInput(value: id, sampleShape: [], layout: .nchw, declaredBatch: 0))
            return
        }
        guard dims.allSatisfy({ $0 > 0 }), (ConstantFolding.checkedProduct(dims) ?? Int.max) < 1 << 31 else {
            throw GraphError(.input, "input '\(info.name)' shape \(dims) is invalid")
        }
        let id = newValue(info.name)
        let sample = Array(dims.dropFirst())
        known[info.name] = batched ? .runtime(id, [1] + sample, [2] + sample) : .runtime(id, dims, dims)
        inputs.append(GraphInput(value: id, sampleShape: sample, layout: .nchw, declaredBatch: batched ? nil : dims[0]))
    }

    mutating func uniqueName(_ name: String, opType: String, index: Int) -> String {
        var candidate = name.isEmpty ? "\(opType)_\(index)" : name
        if usedNodeNames.contains(candidate) { candidate = "\(candidate)_\(index)" }
        usedNodeNames.insert(candidate)
        return candidate
    }

    /// Nodes in an order where every input is produced first (stable: ONNX order when valid).
    func topologicalOrder(_ graph: ONNXGraph) throws(GraphError) -> [ONNXNode] {
        var available = Set(known.keys)
        var pending = graph.nodes
        var ordered: [ONNXNode] = []
        ordered.reserveCapacity(pending.count)
        while !pending.isEmpty {
            var progressed = false
            var rest: [ONNXNode] = []
            for node in pending {
                if node.inputs.allSatisfy({ $0.isEmpty || available.contains($0) }) {
                    ordered.append(node)
                    for o in node.outputs where !o.isEmpty { available.insert(o) }
                    progressed = true
                } else {
                    rest.append(node)
                }
            }
            if !progressed {
                let node = rest[0]
                let missing = node.inputs.first { !$0.isEmpty && !available.contains($0) } ?? "?"
                throw GraphError(.structure, "input '\(missing)' is never produced (or the graph has a cycle)", node: "\(node.name) (\(node.opType))")
            }
            pending = rest
        }
        return ordered
    }

    mutating func importNode(_ node: ONNXNode, name: String) throws(GraphError) {
        let attributes = AttributeReader(attributes: node.attributes)
        guard node.domain.isEmpty || node.domain == "ai.onnx" else {
            throw GraphError(.unsupportedOperator, "operator \(node.domain).\(node.opType) is not supported (only the default ONNX domain is)")
        }
        guard let output = node.outputs.first, !output.isEmpty else {
            throw GraphError(.structure, "node has no output")
        }
        if node.opType == "DequantizeLinear", let first = node.inputs.first, let pending = quantizedActivations[first] {
            return try importFakeQuantization(node, pending, name: name, attributes: attributes)
        }
        var ins: [KnownValue?] = []
        for i in node.inputs {
            if i.isEmpty { ins.append(nil); continue }
            if quantizedActivations[i] != nil {
                throw GraphError(.unsupportedOperator, "input '\(i)' is the integer output of a QuantizeLinear; WeakSpot runs it only into a DequantizeLinear (fake quantization)")
            }
            guard let k = known[i] else { throw GraphError(.structure, "input '\(i)' is never produced") }
            ins.append(k)
        }
        if node.opType == "Constant" {
            let c = try attributes.constantNodeValue()
            if case .tensor(let t)? = node.attributes.first(where: { $0.name == "value" })?.value { dataTypes[output] = t.dataType }
            known[output] = c.kind == .float ? .weight(c.tensor, origin: output) : .folded(c, c)
            return
        }
        if node.opType == "Split" { try importSplit(node, name: name, attributes: attributes, inputs: ins); return }
        let allKnownAtImport = ins.allSatisfy { k in
            if case .runtime = k { return false }
            return true
        }
        let castTarget = try attributes.int("to") ?? 1
        if node.opType == "Cast", castTarget == 11, !allKnownAtImport {
            throw GraphError(.unsupportedOperator, "Cast to float64: the model computes in double from here, and WeakSpot computes in float32 (it would narrow silently); export the model in float32")
        }
        if node.opType == "ConstantOfShape", allKnownAtImport {
            known[output] = try constantOfShape(ins, attributes, output: output)
            return
        }
        if ["Identity", "Dropout"].contains(node.opType) || (node.opType == "Cast" && [1, 10, 11, 16].contains(castTarget)) {
            guard let first = ins.first, let k = first else { throw GraphError(.structure, "missing input") }
            if node.opType == "Dropout", ins.count > 2, let training = ins[2], (training.constant(world: 1)?.elements.first ?? 0) != 0 {
                throw GraphError(.attribute, "Dropout in training mode is not supported")
            }
            known[output] = k
            if let type = dataTypes[node.inputs[0]] { dataTypes[output] = type }
            return
        }
        if node.opType == "QuantizeLinear", case .runtime? = ins.first ?? nil {
            quantizedActivations[output] = try pendingQuantization(node, ins, attributes)
            return
        }
        if node.opType == "QuantizeLinear" || node.opType == "DequantizeLinear" {
            known[output] = try importQuantization(node, ins, attributes)
            return
        }
        if node.opType == "Shape", case .runtime(_, let s1, let s2)? = ins.first {
            known[output] = .folded(ConstantValue(integers: try ConstantFolding.sliceOfShape(s1, attributes)),
                                    ConstantValue(integers: try ConstantFolding.sliceOfShape(s2, attributes)))
            return
        }
        if allKnownAtImport && ConstantFolding.foldable.contains(node.opType) {
            let a = try ConstantFolding.evaluate(node.opType, ins.map { $0?.constant(world: 1) }, attributes, opset: opset, maxElements: maxTensorElements)
            let b = try ConstantFolding.evaluate(node.opType, ins.map { $0?.constant(world: 2) }, attributes, opset: opset, maxElements: maxTensorElements)
            known[output] = a == b && a.kind == .float ? .weight(a.tensor, origin: output) : .folded(a, b)
            return
        }
        if node.opType == "Cast" {
            throw GraphError(.unsupportedOperator, "Cast of an activation to a non-float type is not supported")
        }
        let builder = OperatorBuilder(opType: node.opType, attributes: attributes, inputs: ins, opset: opset)
        let (op, operandIndices) = try builder.build()
        var ids: [ValueID] = []
        var shapes1: [[Int]] = [], shapes2: [[Int]] = []
        for i in operandIndices {
            guard i < ins.count, let k = ins[i] else { throw GraphError(.structure, "missing input \(i)") }
            switch k {
            case .runtime(let id, let s1, let s2):
                ids.append(id); shapes1.append(s1); shapes2.append(s2)
            case .weight(let t, let origin):
                ids.append(registerWeight(origin, t)); shapes1.append(t.shape); shapes2.append(t.shape)
            case .folded(let a, let b):
                guard a == b else { throw GraphError(.structure, "input \(i) depends on the batch size but is used as data") }
                ids.append(registerWeight(node.inputs[i], a.tensor)); shapes1.append(a.shape); shapes2.append(a.shape)
            }
        }
        let out1 = try op.outputShape(shapes1, batch: 1)
        let out2 = try op.outputShape(shapes2, batch: 2)
        try checkActivationSize(out1, op: op)
        let id = newValue(output)
        nodes.append(Node(name: name, op: op, inputs: ids, outputs: [id]))
        known[output] = .runtime(id, out1, out2)
    }

    mutating func registerWeight(_ name: String, _ tensor: Tensor) -> ValueID {
        if let id = weightIDs[name] { return id }
        let id = newValue(name)
        constants[id] = tensor
        weightIDs[name] = id
        return id
    }

    func finish(_ graph: ONNXGraph) throws(GraphError) -> Graph {
        var outputs: [ValueID] = []
        var state = self
        for o in graph.outputs {
            switch state.known[o.name] {
            case .runtime(let id, _, _)?: outputs.append(id)
            case .weight(let t, let origin)?: outputs.append(state.registerWeight(origin, t))
            case .folded(let a, let b)? where a == b: outputs.append(state.registerWeight(o.name, a.tensor))
            case .folded?: throw GraphError(.structure, "graph output '\(o.name)' is computed from the input's shape alone and depends on the batch size")
            case nil where state.quantizedActivations[o.name] != nil:
                throw GraphError(.unsupportedOperator, "graph output '\(o.name)' is the integer output of a QuantizeLinear; WeakSpot runs QuantizeLinear of an activation only into a DequantizeLinear (fake quantization)")
            case nil: throw GraphError(.structure, "graph output '\(o.name)' is never produced")
            }
        }
        guard !outputs.isEmpty else { throw GraphError(.structure, "the graph has no output") }
        var result = Graph(values: state.values, nodes: state.nodes, constants: state.constants, inputs: state.inputs, outputs: outputs, opset: opset)
        result.removeUnusedNodes()
        result.detectInputLayout()
        return result
    }
}

extension Graph {
    /// Drops nodes whose outputs no graph output depends on, and constants nothing reads.
    mutating func removeUnusedNodes() {
        var needed = Set(outputs)
        var keep = [Bool](repeating: false, count: nodes.count)
        for i in stride(from: nodes.count - 1, through: 0, by: -1) where nodes[i].outputs.contains(where: needed.contains) {
            keep[i] = true
            needed.formUnion(nodes[i].inputs)
        }
        nodes = nodes.indices.filter { keep[$0] }.map { nodes[$0] }
        constants = constants.filter { needed.contains($0.key) }
    }

    /// NHWC when the input feeds a Transpose to NCHW (as Keras/tf2onnx exports) or its last axis
    /// looks like colour channels and its second does not.
    mutating func detectInputLayout() {
        for k in inputs.indices {
            let input = inputs[k]
            guard input.sampleShape.count == 3 else { continue }
            let firstUse = nodes.first { $0.inputs.contains(input.value) }
            if case .transpose(let perm)? = firstUse?.op, perm == [0, 3, 1, 2] {
                inputs[k].layout = .nhwc
            } else if [1, 3].contains(input.sampleShape[2]) && ![1, 3].contains(input.sampleShape[0]) {
                inputs[k].layout = .nhwc
            }
        }
    }
}
