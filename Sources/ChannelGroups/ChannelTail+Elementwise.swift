import NetworkIR

extension Graph {
    /// Whether an element-wise function, PRelu, Pow or Sum/Max/Min/Mean reading `value` acts on
    /// each channel on its own: every element-wise function does; PRelu and Pow when their
    /// constant is one value or one per channel; Max/Min of the value and such a constant (the
    /// clipping form), Sum/Mean of the value and a per-channel constant (as Add).
    func elementwisePerChannel(_ node: Node, value: ValueID, channels: Int) -> Bool {
        guard node.inputs.first == value || { if case .variadic = node.op { return true } else { return false } }() else { return false }
        switch node.op {
        case .unary:
            return true
        case .prelu, .pow:
            guard let c = constants[node.inputs[1]] else { return false }
            return c.count == 1 || isPerChannelConstant(c, channels: channels)
        case .variadic(let kind):
            let others = node.inputs.filter { $0 != value }
            guard node.inputs.filter({ $0 == value }).count == 1, !others.isEmpty else { return false }
            return others.allSatisfy { v in
                guard let c = constants[v] else { return false }
                return (c.count == 1 && (kind == .max || kind == .min)) || isPerChannelConstant(c, channels: channels)
            }
        default:
            return false
        }
    }

    /// (C,1,1), (1,C,1,1) or (C) on a 2-D output: one value per channel of axis 1.
    func isPerChannelConstant(_ c: Tensor, channels: Int) -> Bool {
        let dims = c.shape.drop(while: { $0 == 1 })
        return c.count == channels && dims.first == channels && dims.dropFirst().allSatisfy { $0 == 1 }
    }
}
