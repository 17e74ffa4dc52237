import NetworkIR

/// The backward rule of each operator: given the gradient of a node's output, the gradients of
/// its inputs (nil where an input takes none: BN statistics, a Reshape's shape).
enum BackwardRules {
    /// Refuses, before any work, the operand forms the backward pass does not cover.
    static func checkSupported(_ node: Node, graph: Graph) throws(GradientError) {
        let name = "\(node.name) (\(node.op.onnxName))"
        switch node.op {
        case .conv:
            guard graph.constants[node.inputs[1]] != nil else {
                throw GradientError("Conv with a computed (non-constant) weight is not differentiable here", node: name)
            }
        case .batchNormalization:
            guard node.inputs.count == 5, node.inputs[3...].allSatisfy({ graph.constants[$0] != nil }) else {
                throw GradientError("BatchNormalization needs constant running mean and variance (inference form)", node: name)
            }
        default:
            break
        }
    }

    static func backward(_ node: Node, index: Int, outputGradient g: Tensor, context: BackwardContext) throws(GradientError) -> [Tensor?] {
        let x = try context.value(node.inputs[0])
        switch node.op {
        case .conv(let a):
            let w = try context.value(node.inputs[1])
            let r = try ConvolutionBackward(attributes: a, inputShape: x.shape, weightShape: w.shape)
                .run(input: x, weights: w, outputGradient: g, threads: context.threads, needsInput: needsGradient(node.inputs[0], context))
            return [r.input, r.weights] + (node.inputs.count > 2 ? [r.bias] : [])
        case .batchNormalization(let epsilon):
            if let all = context.batchStatistics {
                guard let statistics = all[index] else { throw GradientError("no batch statistics were recorded for this node") }
                let gamma = try context.value(node.inputs[1])
                let r = NormalizationBackward.trainingBatchNorm(input: x, gamma: gamma.storage, statistics: statistics,
                                                               epsilon: epsilon, outputGradient: g, threads: context.threads)
                return [r.input, r.gamma, r.beta, nil, nil]
            }
            let p = try (1...4).map { (i: Int) throws(GradientError) -> Tensor in try context.value(node.inputs[i]) }
            let r = NormalizationBackward.frozenBatchNorm(input: x, gamma: p[0].storage, mean: p[2].storage, variance: p[3].storage,
                                                          epsilon: epsilon, outputGradient: g)
            return [r.input, r.gamma, r.beta, nil, nil]
        case .relu, .leakyRelu, .clip, .sigmoid, .hardSigmoid, .hardSwish, .tanh, .fakeQuantize:
            let y = try context.value(node.outputs[0])
            return [ElementwiseBackward.unary(node.op, input: x, output: y, outputGradient: g, threads: context.threads)]
        case .add, .sub, .mul, .div:
            let b = try context.value(node.inputs[1])
            let r = ElementwiseBackward.binary(node.op, a: x, b: b, outputGradient: g)
            return [r.a, r.b]
        case .maxPool(let a):
            return [try PoolingBackward.maxPool(a, input: x, outputGradient: g, threads: context.threads)]
        case .averagePool(let a, let includePad):
            return [try PoolingBackward.averagePool(a, countIncludePad: includePad, input: x, outputGradient: g)]
        case .globalAveragePool:
            return [PoolingBackward.meanOverAxes(Array(2..<x.rank), input: x, outputGradient: g)]
        case .reduceMean(let axes, _):
            return [PoolingBackward.meanOverAxes(axes, input: x, outputGradient: g)]
        case .flatten, .reshape, .squeeze, .unsqueeze:
            return [Tensor(shape: x.shape, storage: g.storage)] + [Tensor?](repeating: nil, count: node.inputs.count - 1)
        case .transpose(let permutation):
            return [ShapeBackward.transpose(g, permutation: ShapeBackward.inverse(permutation))]
        case .concat(let axis):
            let parts = try node.inputs.map { (v: ValueID) throws(GradientError) -> [Int] in try context.value(v).shape }
            return ShapeBackward.split(g, axis: axis, shapes: parts)
        case .pad(let pads, let mode, _):
            return [ShapeBackward.pad(g, pads: pads, mode: mode, inputShape: x.shape)]
        case .slice(let a):
            return [ShapeBackward.slice(g, attributes: a, inputShape: x.shape)]
        case .gemm(let alpha, let beta, let transA, let transB):
            let b = try context.value(node.inputs[1])
            let c = node.inputs.count > 2 ? try context.value(node.inputs[2]) : nil
            let r = try MatrixBackward.gemm(a: x, b: b, c: c, alpha: alpha, beta: beta, transA: transA, transB: transB,
                                            outputGradient: g, threads: context.threads)
            return [r.a, r.b] + (c != nil ? [r.c] : [])
        case .matMul:
            let b = try context.value(node.inputs[1])
            let r = try MatrixBackward.matMul(a: x, b: b, outputGradient: g, threads: context.threads)
            return [r.a, r.b]
        case .softmax(let axis):
            let y = try context.value(node.outputs[0])
            return [ElementwiseBackward.softmax(output: y, outputGradient: g, axis: axis)]
        case .unary, .prelu, .pow, .variadic, .softmaxFamily:
            return try ActivationBackward.backward(node, outputGradient: g, context: context)
        case .lrn, .instanceNormalization, .resize, .convTranspose, .reduceSum, .reduceMax, .expand, .tile, .whereSelect, .compare, .gather:
            return try StructuralBackward.backward(node, input: x, outputGradient: g, context: context)
        }
    }

    /// Whether an operand takes a gradient: activations (the graph input included) do; a constant
    /// fed as a convolution's data input does not, which saves its col2im.
    static func needsGradient(_ id: ValueID, _ context: BackwardContext) -> Bool {
        context.graph.constants[id] == nil && !context.skipped.contains(id)
    }
}
