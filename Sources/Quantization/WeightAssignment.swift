import NetworkIR

/// The bits each quantized weight tensor gets under an assignment, checked once for the fake-
/// quantized graph and the QDQ export alike: every named layer exists, bits are in 2...16, and a
/// weight read by several layers (tied weights) gets the same bits from each, since one tensor can
/// be stored only one way.
public struct QuantizedWeightAssignment: Sendable, Equatable {
    /// The weight value, the first quantized layer reading it (whose axis the scales follow), and
    /// its bits; in node order of that first layer.
    public struct Entry: Sendable, Equatable {
        public var weight: ValueID
        public var layer: QuantizableLayer
        public var bits: Int
    }

    public var entries: [Entry]

    public init(_ graph: Graph, assignment: QuantizationAssignment) throws(QuantizedGraph.Failure) {
        let layers = QuantizableLayer.all(in: graph)
        let known = Set(layers.map(\.name))
        for name in assignment.weightBits.keys.sorted() where !known.contains(name) {
            throw QuantizedGraph.Failure("layer '\(name)' is not a Conv, Gemm or MatMul with a constant weight in this model")
        }
        for name in assignment.floatLayers.union(assignment.layerCalibration.keys).sorted() where !known.contains(name) {
            throw QuantizedGraph.Failure("layer '\(name)' is not a Conv, Gemm or MatMul with a constant weight in this model")
        }
        for name in assignment.floatLayers.sorted() where assignment.weightBits[name] != nil {
            throw QuantizedGraph.Failure("layer '\(name)' is both quantized at \(assignment.weightBits[name]!) bits and kept float")
        }
        var index: [ValueID: Int] = [:]
        entries = []
        for layer in layers {
            guard let bits = assignment.weightBits[layer.name] else { continue }
            guard (2...16).contains(bits) else { throw QuantizedGraph.Failure("layer '\(layer.name)': \(bits) bits is outside 2...16") }
            if let i = index[layer.weight] {
                let other = entries[i].bits
                guard other == bits else {
                    throw QuantizedGraph.Failure("layer '\(layer.name)' shares its weight with another layer planned at \(other) bits, not \(bits)")
                }
                guard entries[i].layer.axis == layer.axis else {
                    throw QuantizedGraph.Failure("layer '\(layer.name)' shares its weight with layer '\(entries[i].layer.name)', which reads its output channels on axis \(entries[i].layer.axis), not \(layer.axis): one tensor has one set of per-channel scales")
                }
                continue
            }
            index[layer.weight] = entries.count
            entries.append(Entry(weight: layer.weight, layer: layer, bits: bits))
        }
    }

    /// The weight quantized as this assignment says (per channel along the first reader's axis,
    /// or one scale).
    public func quantized(_ entry: Entry, in graph: Graph, granularity: QuantizationGranularity) -> QuantizedWeights {
        QuantizedWeights(graph.constants[entry.weight]!, bits: entry.bits, axis: granularity == .channel ? entry.layer.axis : nil)
    }
}
