import NetworkIR

/// The per-channel tail of a producer (a Conv, Gemm, or MatMul with a constant weight): the
/// chain after it of operators that act on each channel on its own — BatchNormalization, Relu,
/// Clip, LeakyRelu, HardSwish, Sigmoid/HardSigmoid gating (x·σ(x)), Mul/Add with a per-channel
/// constant — up to the first operator that mixes channels or merges two activations. Layout
/// operators that only move the channel axis (a Transpose, a Reshape/Squeeze/Unsqueeze that keeps
/// one position per channel on some axis) are part of the tail: after them the per-channel ops act
/// on the moved axis (an NHWC bias Add of shape (1,1,1,C) or (C)), and `axis` says where it is.
///
/// Zeroing channel c of `end` is what physically removing the producer's channel c does: every
/// consumer sees a zero channel. Zeroing it in `output` is the `--ablate-at output` definition.
public struct ChannelTail: Sendable, Equatable {
    /// The producer node's index in `Graph.nodes`.
    public var producer: Int
    /// The producer's raw output.
    public var output: ValueID
    /// The last value of the tail: what every consumer reads.
    public var end: ValueID
    /// Node indices of the tail after the producer, in order.
    public var nodes: [Int]
    /// Channels (axis 1) of the producer's output.
    public var channels: Int
    /// The axis of `end` that holds the channels (1 unless a Transpose or Reshape moved it).
    public var axis: Int = 1
}

extension Graph {
    /// Whether the node produces channels that WeakSpot can ablate: Conv, Gemm, MatMul whose
    /// right operand is a constant 2-D weight.
    public func isChannelProducer(_ node: Node) -> Bool {
        switch node.op {
        case .conv: return true
        case .gemm(_, _, false, _): return isConstant(node.inputs[1])
        case .matMul: return constants[node.inputs[1]]?.rank == 2
        default: return false
        }
    }

    /// The per-channel tail of every channel producer, in node order.
    public func channelTails() throws(GraphError) -> [ChannelTail] {
        let shapes = try inferShapes(batch: 1)
        let consumers = self.consumers()
        let outputs = Set(self.outputs)
        var tails: [ChannelTail] = []
        for (index, node) in nodes.enumerated() where isChannelProducer(node) {
            let out = node.outputs[0]
            guard let shape = shapes[out], shape.count >= 2 else { continue }
            let channels = shape[1]
            var end = out
            var axis = 1
            var chain: [Int] = []
            while !outputs.contains(end) {
                let readers = consumers[end]
                if readers.count == 1, perChannel(nodes[readers[0]], value: end, channels: channels, axis: axis, rank: shapes[end]?.count) {
                    chain.append(readers[0])
                    end = nodes[readers[0]].outputs[0]
                    continue
                }
                if readers.count == 1, let moved = movedAxis(nodes[readers[0]], axis: axis, channels: channels, shapes: shapes) {
                    chain.append(readers[0])
                    end = nodes[readers[0]].outputs[0]
                    axis = moved
                    continue
                }
                // Gating: v → σ(v) → Mul(v, σ(v)) (SiLU, or HardSwish written out).
                if readers.count == 2,
                   let gate = readers.first(where: { [Operator.sigmoid].contains(nodes[$0].op) || isHardSigmoid(nodes[$0].op) }),
                   let mul = readers.first(where: { $0 != gate && nodes[$0].op == .mul }),
                   consumers[nodes[gate].outputs[0]] == [mul],
                   Set(nodes[mul].inputs) == Set([end, nodes[gate].outputs[0]]) {
                    chain.append(contentsOf: [gate, mul].sorted())
                    end = nodes[mul].outputs[0]
                    continue
                }
                break
            }
            tails.append(ChannelTail(producer: index, output: out, end: end, nodes: chain, channels: channels, axis: axis))
        }
        return tails
    }

    private func isHardSigmoid(_ op: Operator) -> Bool {
        if case .hardSigmoid = op { return true }
        return false
    }

    /// The channel axis after a layout operator that only moves it (one position per channel on
    /// the new axis, so a mask there is a mask of channels), or nil.
    func movedAxis(_ node: Node, axis: Int, channels: Int, shapes: [[Int]?]) -> Int? {
        switch node.op {
        case .transpose(let permutation):
            return ChannelLayout.transposed(axis, permutation: permutation)
        case .reshape, .flatten, .squeeze, .unsqueeze:
            guard let input = shapes[node.inputs[0]], let output = shapes[node.outputs[0]],
                  let placement = ChannelLayout.reshaped(axis, step: 1, input: input, output: output, channels: channels),
                  placement.step == 1, placement.extent == channels else { return nil }
            return placement.axis
        default:
            return nil
        }
    }

    /// Whether `node`, reading `value` (of rank `rank`, channels on `axis`), acts on each channel on its own.
    func perChannel(_ node: Node, value: ValueID, channels: Int, axis: Int = 1, rank: Int? = nil) -> Bool {
        switch node.op {
        case .batchNormalization, .relu, .clip, .leakyRelu, .hardSwish:
            return node.inputs[0] == value
        case .instanceNormalization:
            // Per channel like BatchNormalization (a zero input channel comes out as its bias), so
            // the tail runs on past it and ablation zeroes after it, as removal does.
            return node.inputs[0] == value
        case .add, .mul, .sub, .div:
            guard node.inputs.count == 2, let other = node.inputs.first(where: { $0 != value }), node.inputs[0] == value || node.op == .add || node.op == .mul,
                  let c = constants[other] else { return false }
            if c.count == 1 { return node.op != .add && node.op != .sub }
            // A per-channel constant on the channel axis: (C,1,1) or (1,C,1,1) on NCHW, (1,1,1,C) or
            // (C) on NHWC, (C) on a 2-D output.
            if let rank { return ChannelLayout.isPerChannel(constant: c.shape, rank: rank, axis: axis, channels: channels) }
            let dims = c.shape.drop(while: { $0 == 1 })
            return c.count == channels && dims.first == channels && dims.dropFirst().allSatisfy { $0 == 1 }
        case .unary, .prelu, .pow, .variadic:
            return elementwisePerChannel(node, value: value, channels: channels)
        default:
            return false
        }
    }
}
