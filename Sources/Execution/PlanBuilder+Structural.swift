import NetworkIR

/// Kernels of the structural operators that bind constants at plan time.
extension PlanBuilder {
    func instanceNormalizationKernel(_ node: Node, epsilon: Float) throws(GraphError) -> StepKernel {
        guard node.inputs.count == 3, let scale = graph.constants[node.inputs[1]], let bias = graph.constants[node.inputs[2]] else {
            throw GraphError(.structure, "InstanceNormalization scale and bias must be constants", node: node.name)
        }
        return InstanceNormalizationKernel(scale: scale.storage, bias: bias.storage, epsilon: epsilon)
    }

    func convTransposeKernel(_ node: Node, attributes: ConvTransposeAttributes) throws(GraphError) -> StepKernel {
        guard let weights = graph.constants[node.inputs[1]] else {
            throw GraphError(.structure, "ConvTranspose weight must be a constant", node: node.name)
        }
        let bias = node.inputs.count > 2 ? graph.constants[node.inputs[2]]?.storage : nil
        return ConvTransposeKernel(attributes: attributes, weights: weights, bias: bias)
    }
}
