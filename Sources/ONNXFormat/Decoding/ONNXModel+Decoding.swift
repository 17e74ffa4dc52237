import Foundation

extension ONNXModel {
    /// Reads and decodes the model at `path`. External data is read at load, relative to the
    /// model's folder (see `ExternalDataReader`), and kept in memory as `raw_data`.
    ///
    /// - Throws: `ONNXError`; its `file` is `path`.
    public static func load(path: String, limits: ONNXLimits = .init()) throws -> ONNXModel {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            let bytes = try FileBytes.read(path)
            if let foreign = ForeignModelFile.identify(bytes) { throw ONNXError(.notONNX, foreign) }
            do {
                return try decode(bytes, externalDataDirectory: folder.isEmpty ? "." : folder, limits: limits)
            } catch let error as ONNXError where [.malformed, .truncated].contains(error.kind) {
                if let foreign = ForeignModelFile.identifyUndecodable(bytes, fileName: path) { throw ONNXError(.notONNX, foreign) }
                throw error
            }
        } catch var error as ONNXError {
            error.file = path
            throw error
        }
    }

    /// Decodes a serialized `ModelProto`.
    ///
    /// - Parameter externalDataDirectory: the folder external-data locations are relative to;
    ///   nil refuses any tensor with external data.
    /// - Throws: `ONNXError` naming the message path and byte offset of the first problem.
    public static func decode(_ bytes: [UInt8], externalDataDirectory: String?, limits: ONNXLimits = .init()) throws -> ONNXModel {
        var decoder = MessageDecoder(limits: limits, externalData: ExternalDataReader(directory: externalDataDirectory),
                                     fileByteCount: bytes.count)
        return try decoder.decodeModel(WireReader(bytes: bytes, range: 0..<bytes.count, limits: limits))
    }
}
