/// `--max-tensor-elements` applied to activations as the importer infers their shapes, so that a
/// model whose Resize, Tile, Expand, Pad or ConvTranspose would make a huge tensor is refused
/// with the option's name before anything is allocated.
extension ImportState {
    func checkActivationSize(_ shape: [Int], op: Operator) throws(GraphError) {
        guard let count = ConstantFolding.checkedProduct(shape), count <= maxTensorElements else {
            throw GraphError(.shape, "\(op.onnxName) output \(shape) has more elements than the limit \(maxTensorElements) (raise with --max-tensor-elements)")
        }
    }
}
