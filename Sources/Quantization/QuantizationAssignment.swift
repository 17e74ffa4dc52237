import NetworkIR

/// What a quantized model is: bits per weight of each quantized layer, how weight scales are
/// shared, and whether (and how) the activations after those layers are quantized. The planner
/// chooses it, `QuantizedGraph` runs it in float (fake quantization) and `QDQExport` writes it
/// as a QDQ ONNX file, so the three agree by construction.
public struct QuantizationAssignment: Sendable, Equatable {
    /// Bits per weight by producer node name (Conv, Gemm or MatMul with a constant weight).
    /// Layers not listed keep float32 weights.
    public var weightBits: [String: Int]
    public var granularity: QuantizationGranularity
    /// Bits of the activation at the end of each quantized layer's per-channel tail (what its
    /// consumers read); nil leaves activations in float.
    public var activationBits: Int?
    /// How each quantized activation's range is calibrated, unless `layerCalibration` names the
    /// method for its layer.
    public var calibration: CalibrationMethod
    /// Layers whose weights stay float while their output activation is quantized like every
    /// quantized layer's (the planner's float rung, `plan --quantize --float-rung`): with
    /// activations quantized, a float-weight layer still hands its consumers uint8 values, as
    /// onnxruntime quantizes every activation. Ignored when activations stay float.
    public var floatLayers: Set<String>
    /// The calibration method of a layer's output activation, by layer name, where it is not
    /// `calibration` (`plan --calibration measured` chooses one per tensor). Layers sharing an
    /// activation must agree.
    public var layerCalibration: [String: CalibrationMethod]

    public init(weightBits: [String: Int], granularity: QuantizationGranularity = .channel, activationBits: Int? = nil,
                calibration: CalibrationMethod = .minmax, floatLayers: Set<String> = [], layerCalibration: [String: CalibrationMethod] = [:]) {
        self.weightBits = weightBits
        self.granularity = granularity
        self.activationBits = activationBits
        self.calibration = calibration
        self.floatLayers = floatLayers
        self.layerCalibration = layerCalibration
    }

    /// Whether the layer's output activation is quantized (its weights quantized, or kept float
    /// on the float rung), when activations are.
    public func quantizesOutput(of layer: String) -> Bool {
        activationBits != nil && (weightBits[layer] != nil || floatLayers.contains(layer))
    }
}

/// A layer whose weight can be quantized: its node, its weight's value and the weight's
/// output-channel axis.
public struct QuantizableLayer: Sendable, Equatable {
    public var node: Int
    public var name: String
    public var weight: ValueID
    public var axis: Int
    /// Weight elements (what bits per weight are counted over).
    public var params: Int

    /// Every Conv, Gemm and MatMul whose weight (input 1) is a constant, in node order.
    public static func all(in graph: Graph) -> [QuantizableLayer] {
        graph.nodes.enumerated().compactMap { i, node in
            guard let axis = node.weightOutputAxis, node.inputs.count > 1, let w = graph.constants[node.inputs[1]], w.rank >= 2 else { return nil }
            return QuantizableLayer(node: i, name: node.name, weight: node.inputs[1], axis: axis, params: w.count)
        }
    }
}
