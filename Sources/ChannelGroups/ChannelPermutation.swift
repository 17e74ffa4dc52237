import NetworkIR

/// A chain of layout operators that takes an activation (N, C, …) back to its own shape with its
/// channels permuted: at every image and position, output channel j holds input channel
/// `source[j]`. ShuffleNet's channel shuffle, as torch.onnx writes it, is one:
/// Reshape (N, C, H, W) → (N, g, C/g, H, W), Transpose (0, 2, 1, 3, 4), Reshape → (N, C, H, W)
/// sends channel i·(C/g) + k to k·g + i.
///
/// The values inside the chain spread the channels over several axes, which no single channel
/// axis describes; the chain as a whole is a permutation, so the dependency analysis, the masks
/// and the pruner follow channels through it from `input` to `output` and ignore the inner values.
public struct ChannelPermutation: Sendable, Equatable {
    /// Node indices of the chain (`Graph.nodes`), in order; the first reads `input`, the last
    /// writes `output`, and every value in between has that next node as its only reader.
    public var nodes: [Int]
    public var input: ValueID
    public var output: ValueID
    /// For each output channel, the input channel it holds.
    public var source: [Int]

    /// The output positions of the kept input channels `kept`, in output order.
    public func outputPositions(keeping kept: [Int]) -> [Int] {
        let set = Set(kept)
        return source.indices.filter { set.contains(source[$0]) }
    }
}

extension Graph {
    /// The layout operators that may form a channel permutation.
    static func isLayoutOperator(_ op: Operator) -> Bool {
        switch op {
        case .reshape, .transpose, .flatten, .squeeze, .unsqueeze: return true
        default: return false
        }
    }

    /// Every channel permutation chain of the graph: from an activation whose channels are on
    /// axis 1 through at most `maxLength` layout operators (each the only reader of the value
    /// before it, none a graph output) back to the same shape, whose composite maps each channel
    /// to exactly one channel at the same position, checked at batch 1 and 2. A chain starts with
    /// a Reshape that spreads the channels over several axes (layout operators that keep them on
    /// one axis are followed by `ChannelLayout` instead).
    public func channelPermutations(maxLength: Int = 6) throws(GraphError) -> [ChannelPermutation] {
        let one = try inferShapes(batch: 1), two = try inferShapes(batch: 2)
        let consumers = self.consumers()
        let outputs = Set(self.outputs)
        var result: [ChannelPermutation] = []
        var used = Set<Int>()
        for (index, node) in nodes.enumerated() where !used.contains(index) {
            guard case .reshape = node.op, let x = node.inputs.first, !isConstant(x),
                  let start = one[x], start.count >= 3, start[1] > 1,
                  let out = one[node.outputs[0]],
                  ChannelLayout.reshaped(1, step: 1, input: start, output: out, channels: start[1]) == nil else { continue }
            var chain = [index]
            var value = node.outputs[0]
            var found: [Int]? = nil
            while chain.count <= maxLength, !outputs.contains(value) {
                if chain.count >= 2, one[value] == start, let s2 = two[x], two[value] == s2 {
                    let ops = chain.map { nodes[$0].op }
                    if let a = Self.channelSource(ops, shapes: chain.map { one[nodes[$0].outputs[0]] ?? [] }, input: start),
                       let b = Self.channelSource(ops, shapes: chain.map { two[nodes[$0].outputs[0]] ?? [] }, input: s2), a == b {
                        found = a
                    }
                    break
                }
                let readers = consumers[value]
                guard readers.count == 1, Self.isLayoutOperator(nodes[readers[0]].op), nodes[readers[0]].inputs.first == value else { break }
                chain.append(readers[0])
                value = nodes[readers[0]].outputs[0]
            }
            guard let source = found, source != Array(source.indices) else { continue }
            result.append(ChannelPermutation(nodes: chain, input: x, output: value, source: source))
            used.formUnion(chain)
        }
        return result
    }

    /// The input channel each output channel holds after `ops` (layout operators whose outputs
    /// have `shapes`) on an input of shape `input`, or nil when some output channel holds several
    /// input channels or positions move. Computed by carrying every element's flat input index
    /// through the chain.
    static func channelSource(_ ops: [Operator], shapes: [[Int]], input: [Int]) -> [Int]? {
        let total = input.reduce(1, *)
        guard total > 0, total <= 1 << 24 else { return nil }
        var index = Array(0..<total)
        var shape = input
        for (op, outShape) in zip(ops, shapes) {
            guard outShape.reduce(1, *) == total else { return nil }
            if case .transpose(let permutation) = op {
                guard permutation.count == shape.count else { return nil }
                index = transposed(index, shape: shape, permutation: permutation)
            }
            shape = outShape
        }
        guard shape == input else { return nil }
        let channels = input[1], inner = input[2...].reduce(1, *), batch = input[0]
        var source = [Int](repeating: -1, count: channels)
        for n in 0..<batch {
            for c in 0..<channels {
                for p in 0..<inner {
                    let from = index[(n * channels + c) * inner + p]
                    let (image, rest) = from.quotientAndRemainder(dividingBy: channels * inner)
                    let (channel, position) = rest.quotientAndRemainder(dividingBy: inner)
                    guard image == n, position == p, source[c] == -1 || source[c] == channel else { return nil }
                    source[c] = channel
                }
            }
        }
        return source
    }

    /// `values` (row-major, of `shape`) transposed: output axis k is input axis permutation[k].
    static func transposed(_ values: [Int], shape: [Int], permutation: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        for k in stride(from: shape.count - 2, through: 0, by: -1) { strides[k] = strides[k + 1] * shape[k + 1] }
        let outShape = permutation.map { shape[$0] }
        let outStrides = permutation.map { strides[$0] }
        var result = [Int]()
        result.reserveCapacity(values.count)
        var position = [Int](repeating: 0, count: shape.count)
        for _ in 0..<values.count {
            var offset = 0
            for k in 0..<position.count { offset += position[k] * outStrides[k] }
            result.append(values[offset])
            var k = position.count - 1
            while k >= 0 { position[k] += 1; if position[k] < outShape[k] { break }; position[k] = 0; k -= 1 }
        }
        return result
    }
}
