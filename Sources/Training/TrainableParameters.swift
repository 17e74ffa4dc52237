import NetworkIR

/// What a trainable constant is to its layer; the optimizer treats them alike, the summary and the
/// checkpoint name them.
public enum ParameterRole: String, Sendable, Codable {
    case weight, bias, batchNormScale, batchNormShift
    /// A constant operand of Add/Sub/Mul/Div downstream of a layer: the bias an exporter split off
    /// a MatMul, a layer scale.
    case elementwise
}

public struct TrainableParameter: Sendable, Equatable {
    public var value: ValueID
    /// The graph value's name, which is the ONNX tensor's name: how the trained values find their
    /// way back into the model file.
    public var name: String
    public var role: ParameterRole
    /// The first node that reads it, for messages.
    public var node: String
}

/// A BatchNormalization node's running statistics, updated from batch statistics in training mode.
public struct RunningStatisticsSlot: Sendable, Equatable {
    public var node: Int
    public var mean: ValueID
    public var variance: ValueID
}

/// The constants fine-tuning changes, chosen by where they sit rather than by the gradient engine's
/// list (which also differentiates, e.g., the input normalisation an exporter put in the graph):
/// Conv weights and biases, Gemm/MatMul constant operands, BatchNormalization γ and β, and
/// constant operands of Add/Sub/Mul/Div whose other operand depends on a Conv, Gemm or MatMul.
public struct TrainableParameters: Sendable {
    public var parameters: [TrainableParameter]
    public var runningStatistics: [RunningStatisticsSlot]

    public init(graph: Graph) {
        var chosen: [ValueID: TrainableParameter] = [:]
        var order: [ValueID] = []
        func take(_ value: ValueID, _ role: ParameterRole, _ node: Node) {
            guard graph.constants[value] != nil, chosen[value] == nil else { return }
            chosen[value] = TrainableParameter(value: value, name: graph.values[value].name, role: role, node: node.name)
            order.append(value)
        }
        var afterLayer = Set<ValueID>()
        var statistics: [RunningStatisticsSlot] = []
        for (index, node) in graph.nodes.enumerated() {
            let inputs = node.inputs
            let fedByLayer = inputs.contains { afterLayer.contains($0) }
            switch node.op {
            case .conv:
                take(inputs[1], .weight, node)
                if inputs.count > 2 { take(inputs[2], .bias, node) }
            case .gemm:
                if inputs.count > 1 { take(inputs[1], .weight, node) }
                if inputs.count > 2 { take(inputs[2], .bias, node) }
            case .matMul:
                for v in inputs { take(v, .weight, node) }
            case .batchNormalization:
                take(inputs[1], .batchNormScale, node)
                take(inputs[2], .batchNormShift, node)
                if graph.constants[inputs[3]] != nil, graph.constants[inputs[4]] != nil {
                    statistics.append(RunningStatisticsSlot(node: index, mean: inputs[3], variance: inputs[4]))
                }
            case .add, .sub, .mul, .div:
                if fedByLayer { for v in inputs { take(v, .elementwise, node) } }
            default:
                break
            }
            let isLayer: Bool
            switch node.op {
            case .conv, .gemm, .matMul: isLayer = true
            default: isLayer = false
            }
            if isLayer || fedByLayer { afterLayer.formUnion(node.outputs) }
        }
        parameters = order.map { chosen[$0]! }
        runningStatistics = statistics
    }

    /// Trainable values in `graph` (its constants hold the parameters' current values).
    public func elementCount(in graph: Graph) -> Int {
        parameters.reduce(0) { $0 + (graph.constants[$1.value]?.count ?? 0) }
    }
}
