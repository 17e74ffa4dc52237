import ONNXFormat

/// Writing new values into a model's float constants (fine-tuned weights, updated running
/// statistics) while everything else in the file stays as it was.
extension ONNXModel {
    /// The float values of the constant `name` (an initializer or a Constant node, through
    /// Identity-like aliases), or nil when no constant has that name.
    public func floatConstant(named name: String) throws(PruningError) -> [Float]? {
        let names = ONNXNames(graph)
        let root = names.root(name)
        let source: ConstantSource
        if let i = names.initializerIndex[root] { source = .initializer(i) } else if let i = names.constantNode[root] { source = .constantNode(i) } else { return nil }
        guard let tensor = source.tensor(in: graph, name: root) else { return nil }
        guard tensor.dataType == .float else {
            throw PruningError("constant '\(name)' is \(tensor.dataType), not float32: its trained values cannot be stored without a conversion")
        }
        do { return try tensor.floats() } catch { throw PruningError("constant '\(name)': \(error)") }
    }

    /// A copy in which each named float constant holds the given values (same element count; its
    /// dims are kept). A name that is not a stored constant, a non-float constant or a count that
    /// differs throws, naming the constant.
    public func replacingFloatConstants(_ values: [String: [Float]]) throws(PruningError) -> ONNXModel {
        var copy = self
        let names = ONNXNames(graph)
        for name in values.keys.sorted() {
            let new = values[name]!
            let root = names.root(name)
            let source: ConstantSource
            if let i = names.initializerIndex[root] { source = .initializer(i) } else if let i = names.constantNode[root] { source = .constantNode(i) } else {
                throw PruningError("'\(name)' is not a stored constant (initializer or Constant node) of the model, so its new values have no place")
            }
            guard let old = source.tensor(in: copy.graph, name: root) else { throw PruningError("constant '\(name)' has no tensor value") }
            guard old.dataType == .float else { throw PruningError("constant '\(name)' is \(old.dataType), not float32") }
            guard old.elementCount == new.count else {
                throw PruningError("constant '\(name)' holds \(old.elementCount) values, got \(new.count)")
            }
            source.store(ONNXTensor(name: root, floats: new, dims: old.dims), in: &copy.graph)
        }
        return copy
    }
}
