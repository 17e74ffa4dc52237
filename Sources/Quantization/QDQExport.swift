import NetworkIR
import ONNXFormat

/// Writes a quantization assignment into the ONNX model as QDQ, the form ONNX Runtime, TensorRT
/// and OpenVINO turn into integer kernels, and the form WeakSpot's importer reads back as exactly
/// the graph `QuantizedGraph.build` makes (the tests compare logits bit for bit):
///
/// - each quantized weight W: its float initializer (or Constant node) replaced by the integers
///   `W_quantized` (`IntegerStorage`), the float32 scales `W_scale` (one per output channel, or one)
///   and a zero point 0 `W_zero_point`, and a `DequantizeLinear` (axis = the weight's output-channel
///   axis) whose output is named W, so every reader — several layers sharing the weight, an
///   Identity alias — reads the dequantized weight without being rewired;
/// - each quantized activation A (the tail end of each quantized layer,
///   `QuantizedGraph.activationValues`): its producer's output renamed `A_float`, then
///   `QuantizeLinear` → uint8 `A_quantized` → `DequantizeLinear` named A, with the scale and zero
///   point `ActivationQuantizer` gives its calibrated range. A is then the fake-quantized value for
///   every reader, and a graph output keeps its name.
///
/// Biases stay float32 (onnxruntime stores them as int32 at scale_x·scale_w, which would change
/// the numbers WeakSpot measured). External data, read at load, is written inline, so the file is
/// self-contained. Node names, opsets and metadata are kept.
public struct QDQExport: Sendable {
    public let model: ONNXModel
    public let graph: Graph

    /// `graph` must be `model` imported by `Importer.importGraph`.
    public init(model: ONNXModel, graph: Graph) {
        self.model = model
        self.graph = graph
    }

    /// The QDQ model of `assignment`; `ranges` holds the calibrated range of every value
    /// `QuantizedGraph.activationValues` lists when activations are quantized.
    ///
    /// - Throws: `QuantizationError` for an opset without the needed operators, activation bits
    ///   other than 8, a weight that is computed rather than stored, an activation no ONNX node
    ///   produces, or a missing range; `QuantizedGraph.Failure` for an assignment that does not
    ///   fit the model (unknown layer, bits outside 2...16, tied weights at different bits).
    public func exported(_ assignment: QuantizationAssignment, ranges: [ValueID: (Float, Float)]) throws -> ONNXModel {
        let weights = try QuantizedWeightAssignment(graph, assignment: assignment)
        let activations = try QuantizedGraph.activationValues(graph, assignment: assignment)
        let opset = graph.opset
        if !weights.entries.isEmpty || !activations.isEmpty {
            guard opset >= 10 else {
                throw QuantizationError("the model declares opset \(opset); QuantizeLinear and DequantizeLinear exist from opset 10: convert it first (onnx.version_converter.convert_version(model, 13))")
            }
        }
        if assignment.granularity == .channel, opset < 13, let first = weights.entries.first {
            throw QuantizationError("per-channel weight scales need DequantizeLinear's 'axis' (opset 13); the model declares opset \(opset): convert it (onnx.version_converter.convert_version(model, 13)) or quantize per tensor (granularity tensor)",
                                    node: first.layer.name)
        }
        var onnx = model.graph
        var names = TensorNames(onnx)
        var dequantizeNodes: [ONNXNode] = []
        var replaced = Set<String>()
        for entry in weights.entries {
            try checkStored(entry, in: onnx)
            let q = weights.quantized(entry, in: graph, granularity: assignment.granularity)
            let (tensors, node) = weightNodes(entry, q, opset: opset, names: &names)
            onnx.initializers += tensors
            dequantizeNodes.append(node)
            replaced.insert(graph.values[entry.weight].name)
        }
        onnx.initializers.removeAll { replaced.contains($0.name) }
        onnx.nodes.removeAll { $0.opType == "Constant" && $0.outputs.count == 1 && replaced.contains($0.outputs[0]) }
        onnx.inputs.removeAll { replaced.contains($0.name) }
        // The dequantized weight may differ in type from the tensor it replaces (a float16 weight
        // read through a Cast); its declared type would then be wrong.
        onnx.valueInfo.removeAll { replaced.contains($0.name) }
        onnx.nodes.insert(contentsOf: dequantizeNodes, at: 0)
        if let bits = assignment.activationBits {
            guard bits == 8 else {
                throw QuantizationError("activations at \(bits) bits: the QDQ export writes uint8 activations only (8 bits, onnxruntime's QUInt8)")
            }
            for v in activations {
                try insertActivationPair(v, range: ranges[v], bits: bits, into: &onnx, names: &names)
            }
        }
        var result = model
        result.graph = onnx
        return result
    }

    /// Refuses a weight that is not a float initializer or Constant node: an already quantized
    /// or computed weight has no stored tensor to replace.
    func checkStored(_ entry: QuantizedWeightAssignment.Entry, in onnx: ONNXGraph) throws {
        let name = graph.values[entry.weight].name
        let layer = "\(entry.layer.name) (\(graph.nodes[entry.layer.node].op.onnxName))"
        if let stored = onnx.initializers.first(where: { $0.name == name }) {
            guard [.float, .float16, .bfloat16, .double].contains(stored.dataType) else {
                throw QuantizationError("weight '\(name)' is stored as \(stored.dataType.label); expected a floating-point initializer", node: layer)
            }
        } else if !onnx.nodes.contains(where: { $0.opType == "Constant" && $0.outputs == [name] }) {
            let by = onnx.nodes.first { $0.outputs.contains(name) }.map { "node \($0.name) (\($0.opType))" } ?? "the importer"
            throw QuantizationError("weight '\(name)' is computed by \(by), not stored as an initializer or Constant node: quantize the float model (an already quantized or computed weight cannot be re-stored)", node: layer)
        }
    }

    /// The integer, scale and zero-point initializers of one weight and the DequantizeLinear that
    /// gives the weight's name back.
    func weightNodes(_ entry: QuantizedWeightAssignment.Entry, _ q: QuantizedWeights, opset: Int, names: inout TensorNames) -> ([ONNXTensor], ONNXNode) {
        let name = graph.values[entry.weight].name
        let storage = IntegerStorage.weight(bits: entry.bits, opset: opset)
        let scaleDims = q.axis == nil ? [] : [q.scales.count]
        var tensors = [storage.tensor(name: names.fresh(name, "quantized"), dims: q.shape, values: q.values),
                       ONNXTensor(name: names.fresh(name, "scale"), floats: q.scales, dims: scaleDims)]
        if storage.hasZeroPoint {
            tensors.append(storage.tensor(name: names.fresh(name, "zero_point"), dims: scaleDims, values: [Int32](repeating: 0, count: q.scales.count)))
        }
        let axis = q.axis.map { [ONNXAttribute(name: "axis", value: .int(Int64($0)))] } ?? []
        let node = ONNXNode(name: names.fresh(name, "DequantizeLinear"), opType: "DequantizeLinear", inputs: tensors.map(\.name),
                            outputs: [name], attributes: axis)
        return (tensors, node)
    }

    /// QuantizeLinear → DequantizeLinear on the activation `v`, right after its producer, whose
    /// output is renamed so that the pair's output carries the activation's name.
    func insertActivationPair(_ v: ValueID, range: (Float, Float)?, bits: Int, into onnx: inout ONNXGraph, names: inout TensorNames) throws {
        let name = graph.values[v].name
        guard let range else { throw QuantizationError("activation '\(name)' has no calibrated range") }
        guard let p = onnx.nodes.firstIndex(where: { $0.outputs.contains(name) }), onnx.nodes[p].opType != "Constant" else {
            throw QuantizationError("activation '\(name)' is not the output of a node of the ONNX graph, so no QuantizeLinear can follow it")
        }
        let f = ActivationQuantizer.fakeQuantization(range: range, bits: bits)
        let floatName = names.fresh(name, "float")
        let scale = ONNXTensor(name: names.fresh(name, "scale"), floats: [f.scale], dims: [])
        let zeroPoint = IntegerStorage.uint8.tensor(name: names.fresh(name, "zero_point"), dims: [], values: [Int32(f.zeroPoint)])
        let quantized = names.fresh(name, "quantized")
        onnx.nodes[p].outputs = onnx.nodes[p].outputs.map { $0 == name ? floatName : $0 }
        let pair = [
            ONNXNode(name: names.fresh(name, "QuantizeLinear"), opType: "QuantizeLinear", inputs: [floatName, scale.name, zeroPoint.name], outputs: [quantized]),
            ONNXNode(name: names.fresh(name, "DequantizeLinear"), opType: "DequantizeLinear", inputs: [quantized, scale.name, zeroPoint.name], outputs: [name]),
        ]
        onnx.nodes.insert(contentsOf: pair, at: p + 1)
        onnx.initializers += [scale, zeroPoint]
    }
}
