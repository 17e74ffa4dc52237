import ONNXFormat

/// Reading an ONNX float tensor as the float32 values WeakSpot computes with, never rounding
/// silently: float32 is copied, float16 and bfloat16 widen exactly, and float64 is accepted only
/// when every element is exactly a float32 (a double export of float32-trained weights is), so
/// that the model WeakSpot runs is the model in the file. Anything else is refused naming the
/// tensor, the first element that float32 cannot hold and the fix.
enum FloatTensorReading {
    static func floats(_ tensor: ONNXTensor) throws(GraphError) -> [Float] {
        do {
            guard tensor.dataType == .double else { return try tensor.floats() }
            let doubles = try tensor.doubles()
            var result = [Float]()
            result.reserveCapacity(doubles.count)
            for (index, d) in doubles.enumerated() {
                let f = Float(d)
                guard Double(f) == d || d.isNaN else {
                    throw GraphError(.input, "tensor '\(tensor.name)' is float64 and its element \(index) (\(d)) is not exactly a float32 value; "
                        + "WeakSpot computes in float32 and does not round weights silently: export the model in float32 (model.float() before torch.onnx.export)")
                }
                result.append(f)
            }
            return result
        } catch let error as GraphError {
            throw error
        } catch {
            throw GraphError(.input, "tensor '\(tensor.name)': \(error)")
        }
    }
}
