import Foundation

extension ONNXModel {
    /// Writes `encoded()` to `path` atomically (a temporary file in the same folder, then a
    /// rename), so an interrupted run never leaves a half-written model.
    ///
    /// - Throws: `ONNXError` `.io` naming `path`.
    public func write(to path: String) throws {
        do {
            try Data(encoded()).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ONNXError(.io, "cannot write the model (\(error.localizedDescription))", file: path)
        }
    }
}
