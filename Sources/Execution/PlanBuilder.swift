import NetworkIR

/// Chooses a kernel per node and fuses chains whose intermediate values nobody else needs.
struct PlanBuilder {
    let graph: Graph
    let options: ExecutionOptions
    let consumers: [[Int]]
    let outputSet: Set<ValueID>
    /// Nodes already covered by an earlier fused step: never fused twice.
    var claimed: Set<Int> = []

    init(graph: Graph, options: ExecutionOptions) {
        self.graph = graph
        self.options = options
        self.consumers = graph.consumers()
        self.outputSet = Set(graph.outputs)
    }

    /// A value that fusion may hide: read by exactly one node, not a graph output, not observable.
    func isPrivate(_ v: ValueID) -> Bool {
        options.fuse && consumers[v].count == 1 && !outputSet.contains(v) && !options.observable.contains(v)
    }

    /// The single consumer of `v` when `v` may be fused into it.
    func fusibleConsumer(_ v: ValueID) -> Int? {
        guard isPrivate(v), !claimed.contains(consumers[v][0]) else { return nil }
        return consumers[v][0]
    }

    mutating func build() throws(GraphError) -> [Step] {
        let shapes = try graph.inferShapes(batch: 1)
        var steps: [Step] = []
        var covered = [Bool](repeating: false, count: graph.nodes.count)
        for (i, node) in graph.nodes.enumerated() where !covered[i] {
            var chain = [i]
            var inputs = node.inputs.filter { graph.constants[$0] == nil }
            var output = node.outputs[0]
            let kernel: StepKernel
            switch node.op {
            case .conv(let a):
                var weights = graph.constants[node.inputs[1]]!
                var bias = node.inputs.count > 2 ? graph.constants[node.inputs[2]]?.storage : nil
                inputs = [node.inputs[0]]
                // Conv → BatchNormalization: fold the affine map into the weights and bias.
                if let j = fusibleConsumer(output), case .batchNormalization(let eps) = graph.nodes[j].op,
                   let bn = affineParameters(graph.nodes[j], epsilon: eps), bn.scale.count == weights.shape[0] {
                    let perFilter = weights.count / weights.shape[0]
                    for o in 0..<weights.shape[0] {
                        for k in 0..<perFilter { weights.storage[o * perFilter + k] *= bn.scale[o] }
                    }
                    bias = (0..<weights.shape[0]).map { o in (bias?[o] ?? 0) * bn.scale[o] + bn.shift[o] }
                    chain.append(j); output = graph.nodes[j].outputs[0]
                }
                // → Add(residual) of the same shape.
                if let j = fusibleConsumer(output), graph.nodes[j].op == .add {
                    let other = graph.nodes[j].inputs.first { $0 != output } ?? output
                    if graph.constants[other] == nil, other != output, shapes[other] == shapes[output],
                       graph.nodes[j].inputs.filter({ $0 == output }).count == 1 {
                        inputs.append(other)
                        chain.append(j); output = graph.nodes[j].outputs[0]
                    }
                }
                var activation = FusedActivation.none
                if let j = fusibleConsumer(output), let act = FusedActivation(graph.nodes[j].op) {
                    activation = act
                    chain.append(j); output = graph.nodes[j].outputs[0]
                }
                kernel = ConvolutionKernel(attributes: a, weights: weights, bias: bias, activation: activation,
                                           useReference: options.useReferenceKernels, winograd: options.winograd)
            case .gemm(let alpha, let beta, false, let transB) where graph.constants[node.inputs[1]] != nil
                && (node.inputs.count < 3 || graph.constants[node.inputs[2]] != nil):
                var w = graph.constants[node.inputs[1]]!
                if !transB { w = transposed2D(w) }
                if alpha != 1 { w.storage = w.storage.map { $0 * alpha } }
                var bias: [Float]? = nil
                if node.inputs.count > 2, let c = graph.constants[node.inputs[2]] {
                    bias = try denseBias(c, features: w.shape[0], scale: beta, node: node)
                }
                inputs = [node.inputs[0]]
                let activation = fuseActivation(after: &output, chain: &chain)
                kernel = DenseKernel(weights: w, bias: bias, activation: activation, useReference: options.useReferenceKernels)
            case .matMul where graph.constants[node.inputs[1]]?.rank == 2 && shapes[node.inputs[0]]?.count == 2:
                let w = transposed2D(graph.constants[node.inputs[1]]!)
                var bias: [Float]? = nil
                inputs = [node.inputs[0]]
                if let j = fusibleConsumer(output), graph.nodes[j].op == .add,
                   let other = graph.nodes[j].inputs.first(where: { $0 != output }), let c = graph.constants[other],
                   c.count == w.shape[0], c.shape.last == w.shape[0] {
                    bias = c.storage
                    chain.append(j); output = graph.nodes[j].outputs[0]
                }
                let activation = fuseActivation(after: &output, chain: &chain)
                kernel = DenseKernel(weights: w, bias: bias, activation: activation, useReference: options.useReferenceKernels)
            case .batchNormalization(let eps):
                guard let bn = affineParameters(node, epsilon: eps) else {
                    throw GraphError(.structure, "BatchNormalization parameters must be constants", node: node.name)
                }
                inputs = [node.inputs[0]]
                var k = ChannelAffineKernel(scale: bn.scale, shift: bn.shift)
                k.activation = fuseActivation(after: &output, chain: &chain)
                kernel = k
            case .add, .sub, .mul, .div:
                let kind: BinaryKernel.Kind = node.op == .add ? .add : node.op == .sub ? .sub : node.op == .mul ? .mul : .div
                inputs = node.inputs
                var k = BinaryKernel(kind: kind)
                k.activation = fuseActivation(after: &output, chain: &chain)
                kernel = k
            default:
                inputs = node.inputs
                kernel = try singleKernel(node, shapes: shapes)
            }
            for j in chain { covered[j] = true; claimed.insert(j) }
            steps.append(Step(nodes: chain, inputs: inputs, output: output, kernel: kernel))
        }
        // A fused step runs where its last node stood: a residual operand computed between the
        // Conv and the Add is then ready.
        return steps.sorted { $0.nodes.last! < $1.nodes.last! }
    }

    func fuseActivation(after output: inout ValueID, chain: inout [Int]) -> FusedActivation {
        if let j = fusibleConsumer(output), let act = FusedActivation(graph.nodes[j].op) {
            chain.append(j)
            output = graph.nodes[j].outputs[0]
            return act
        }
        return .none
    }

    func affineParameters(_ node: Node, epsilon: Float) -> (scale: [Float], shift: [Float])? {
        guard node.inputs.count == 5, let g = graph.constants[node.inputs[1]], let b = graph.constants[node.inputs[2]],
              let m = graph.constants[node.inputs[3]], let v = graph.constants[node.inputs[4]] else { return nil }
        let k = ChannelAffineKernel(gamma: g.storage, beta: b.storage, mean: m.storage, variance: v.storage, epsilon: epsilon)
        return (k.scale, k.shift)
    }

    func denseBias(_ c: Tensor, features: Int, scale: Float, node: Node) throws(GraphError) -> [Float] {
        if c.count == 1 { return [Float](repeating: c.storage[0] * scale, count: features) }
        guard c.count == features, c.shape.last == features else {
            throw GraphError(.shape, "Gemm C of shape \(c.shape) is not a per-feature bias of \(features)", node: node.name)
        }
        return c.storage.map { $0 * scale }
    }

    func transposed2D(_ t: Tensor) -> Tensor {
        let (r, c) = (t.shape[0], t.shape[1])
        var out = [Float](repeating: 0, count: t.count)
        for i in 0..<r { for j in 0..<c { out[j * r + i] = t.storage[i * c + j] } }
        return Tensor(shape: [c, r], storage: out)
    }

    func singleKernel(_ node: Node, shapes: [[Int]?]) throws(GraphError) -> StepKernel {
        switch node.op {
        case .relu, .leakyRelu, .clip, .sigmoid, .hardSigmoid, .hardSwish, .tanh, .fakeQuantize:
            return UnaryKernel(op: node.op)
        case .maxPool(let a): return PoolKernel(attributes: a, averageCountIncludingPad: nil)
        case .averagePool(let a, let include): return PoolKernel(attributes: a, averageCountIncludingPad: include)
        case .globalAveragePool:
            return MeanOverTrailingAxesKernel(reducedFrom: 2, keepDims: true)
        case .reduceMean(let axes, let keep):
            if let rank = shapes[node.inputs[0]]?.count, !axes.isEmpty, axes == Array(axes[0]..<rank), axes[0] > 0 {
                return MeanOverTrailingAxesKernel(reducedFrom: axes[0], keepDims: keep)
            }
            return ReduceMeanKernel(axes: axes, keepDims: keep)
        case .flatten, .reshape, .squeeze, .unsqueeze: return ReshapeKernel(op: node.op)
        case .transpose(let perm): return TransposeKernel(permutation: perm)
        case .concat(let axis): return ConcatKernel(axis: axis)
        case .pad(let pads, let mode, let value): return PadKernel(pads: pads, mode: mode, value: value)
        case .gemm(let alpha, let beta, let transA, let transB): return GemmKernel(alpha: alpha, beta: beta, transA: transA, transB: transB)
        case .matMul: return MatMulKernel()
        case .softmax(let axis): return SoftmaxKernel(axis: axis)
        case .slice(let s): return SliceKernel(attributes: s)
        case .unary, .prelu, .pow, .variadic, .softmaxFamily: return try elementwiseKernel(node)
        case .lrn(let a): return LRNKernel(attributes: a)
        case .instanceNormalization(let epsilon): return try instanceNormalizationKernel(node, epsilon: epsilon)
        case .resize(let a): return ResizeKernel(attributes: a)
        case .convTranspose(let a): return try convTransposeKernel(node, attributes: a)
        case .reduceSum, .reduceMax: return ReduceKernel(op: node.op)
        case .expand, .tile: return BroadcastCopyKernel(op: node.op)
        case .whereSelect, .compare: return SelectionKernel(op: node.op)
        case .gather(let a): return GatherKernel(attributes: a)
        case .conv, .batchNormalization, .add, .sub, .mul, .div:
            throw GraphError(.structure, "internal: \(node.op.onnxName) reached the generic kernel table", node: node.name)
        }
    }
}

