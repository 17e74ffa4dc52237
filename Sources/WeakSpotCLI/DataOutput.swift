import DataInput

/// Files written from results.
enum DataOutput {
    /// All logits of `result` as one float32 .npy, shape (N, output shape...), written atomically.
    static func writeLogits(_ result: InferenceResult, to path: String) throws {
        try NPYArray(shape: [result.count] + result.outputShape, floats: result.logits).write(path: path)
    }
}
