/// `ConstantOfShape` at import. Exporters (Paddle, some tf2onnx graphs) make whole weights with
/// it, so a float fill whose shape does not depend on the batch becomes a float32 weight tensor
/// directly, without a Double copy per batch world; its size is bounded by
/// `--max-tensor-elements` like every tensor the file declares.
extension ImportState {
    func constantOfShape(_ ins: [KnownValue?], _ attributes: AttributeReader, output: String) throws(GraphError) -> KnownValue {
        guard let first = ins.first, let shapeInput = first,
              let shape1 = shapeInput.constant(world: 1), let shape2 = shapeInput.constant(world: 2) else {
            throw GraphError(.structure, "ConstantOfShape needs its shape input")
        }
        let fill = try ConstantFolding.fillValue(attributes)
        let dims1 = try ConstantFolding.fillShape(shape1, maxElements: maxTensorElements)
        let dims2 = try ConstantFolding.fillShape(shape2, maxElements: maxTensorElements)
        if dims1 == dims2, fill.kind == .float {
            let count = dims1.reduce(1, *)
            return .weight(Tensor(shape: dims1, storage: [Float](repeating: Float(fill.value), count: count)), origin: output)
        }
        func filled(_ dims: [Int]) -> ConstantValue {
            ConstantValue(kind: fill.kind, shape: dims, elements: [Double](repeating: fill.value, count: dims.reduce(1, *)))
        }
        return .folded(filled(dims1), filled(dims2))
    }
}

extension ConstantFolding {
    /// The dims a `ConstantOfShape` makes, refused when negative or larger than `maxElements`.
    static func fillShape(_ shapeValue: ConstantValue, maxElements: Int) throws(GraphError) -> [Int] {
        let dims = try shapeValue.integers("ConstantOfShape shape")
        guard dims.allSatisfy({ $0 >= 0 }) else {
            throw GraphError(.attribute, "ConstantOfShape shape \(dims) has a negative dimension")
        }
        guard let total = checkedProduct(dims), total <= maxElements else {
            throw GraphError(.attribute, "ConstantOfShape shape \(dims) makes \(checkedProduct(dims).map(String.init) ?? "more than 2^63") elements, more than the limit \(maxElements) (raise with --max-tensor-elements)")
        }
        return dims
    }

    /// The fill of a `ConstantOfShape`: its one-element `value` attribute, float 0 when absent.
    static func fillValue(_ attributes: AttributeReader) throws(GraphError) -> (kind: ConstantValue.ElementKind, value: Double) {
        guard let fill = try attributes.tensorValue("value") else { return (.float, 0) }
        guard fill.count == 1 else {
            throw GraphError(.attribute, "ConstantOfShape attribute 'value' must hold one element, got \(fill.count)")
        }
        return (fill.kind, fill.elements[0])
    }
}
