/// Parameters and multiply-accumulates per node, as `weakspot count` reports them.
///
/// Parameters are the elements of the constants a node reads, each constant counted once (by its
/// first reader), except BatchNormalization's running mean and variance: they are statistics, not
/// trained parameters, as torchvision counts them. On a BN-folded export the total is therefore the
/// initializer total. MACs count Conv (N·Cout·Hout·Wout·(Cin/groups)·kh·kw) and Gemm/MatMul
/// (M·N·K per batch entry) and ConvTranspose (N·Cin·H·W·(Cout/groups)·kh·kw: every input pixel
/// times every tap it scatters to, those cropped by the pads included, as fvcore and thop count) only; elementwise operators, pooling and BatchNormalization are not
/// counted, as in torchvision-style counters and Torch-Pruning's.
public struct LayerCost: Sendable, Equatable {
    public var name: String
    public var op: String
    public var outputShape: [Int]
    public var params: Int
    public var macs: Int
    /// The bytes of the counted parameters: as stored in the file when the cost was given the
    /// model's `ParameterBytes` (an int8 weight 1 per element plus its scales), else 4 per
    /// parameter (float32).
    public var bytes: Int
}

public struct ModelCost: Sendable, Equatable {
    public var layers: [LayerCost]
    public var params: Int { layers.reduce(0) { $0 + $1.params } }
    public var macs: Int { layers.reduce(0) { $0 + $1.macs } }
    public var bytes: Int { layers.reduce(0) { $0 + $1.bytes } }
}

extension Graph {
    /// The cost of every node for a batch of `batch` samples. `storedBytes` (`ParameterBytes.stored`)
    /// gives each constant's bytes in the file; a constant it does not list counts 4 bytes per
    /// element.
    public func cost(batch: Int = 1, storedBytes: [ValueID: Int] = [:]) throws(GraphError) -> ModelCost {
        let shapes = try inferShapes(batch: batch)
        var counted = Set<ValueID>()
        var layers: [LayerCost] = []
        for node in nodes {
            var params = 0, bytes = 0
            for (position, v) in node.inputs.enumerated() {
                guard let t = constants[v], !counted.contains(v) else { continue }
                if case .batchNormalization = node.op, position >= 3 { continue }
                counted.insert(v)
                params += t.count
                bytes += storedBytes[v] ?? 4 * t.count
            }
            let out = shapes[node.outputs[0]] ?? []
            var macs = 0
            switch node.op {
            case .conv(let a):
                let w = shapes[node.inputs[1]] ?? []
                if out.count == 4, w.count == 4 {
                    macs = out.reduce(1, *) * w[1] * a.kernel[0] * a.kernel[1]
                }
            case .gemm(_, _, let transA, _):
                let x = shapes[node.inputs[0]] ?? []
                if x.count == 2 { macs = out.reduce(1, *) * (transA ? x[0] : x[1]) }
            case .matMul:
                let x = shapes[node.inputs[0]] ?? []
                if let k = x.last { macs = out.reduce(1, *) * k }
            case .convTranspose(let a):
                let x = shapes[node.inputs[0]] ?? [], w = shapes[node.inputs[1]] ?? []
                if x.count == 4, w.count == 4 { macs = x.reduce(1, *) * w[1] * a.kernel[0] * a.kernel[1] }
            default:
                break
            }
            layers.append(LayerCost(name: node.name, op: node.op.onnxName, outputShape: out, params: params, macs: macs, bytes: bytes))
        }
        return ModelCost(layers: layers)
    }
}
