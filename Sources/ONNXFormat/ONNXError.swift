/// Everything ONNXFormat throws: what went wrong, where in the message tree and at which byte.
///
/// Rendered in one place (`description`) as a single line:
/// `model.onnx: at byte 1234 in graph.initializer[3] 'fc.weight': tensor declares 1000000000000 elements, limit 1073741824 (raise with --max-tensor-elements)`.
public struct ONNXError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// The bytes end in the middle of a field, a length or a varint.
        case truncated
        /// The bytes are not valid protobuf, or a field breaks an ONNX rule (negative dims, wrong wire type, data that does not match the dims).
        case malformed
        /// Valid ONNX that this reader deliberately does not handle (sparse initializers, subgraphs, exotic data types).
        case unsupported
        /// A configured safety limit (`ONNXLimits`) was reached; the message names the option that raises it.
        case limitExceeded
        /// An external-data reference is unsafe (absolute, leaves the model folder) or does not fit its file.
        case externalData
        /// The file system refused a read.
        case io
        /// The file is something else (a PyTorch checkpoint, a Keras model, an image, text): the
        /// message says what and how to export the model to ONNX.
        case notONNX
    }

    public var kind: Kind
    /// The model file, when known (filled by `ONNXModel.load`).
    public var file: String?
    /// Absolute byte offset in the model file where the problem was found, when it is a byte-level problem.
    public var offset: Int?
    /// Message path, e.g. `graph.node[12] 'conv1'.attribute 'pads'`; nil when the problem is at the top.
    public var context: String?
    /// Lower-case fragment: what was expected versus what was found.
    public var message: String

    public init(_ kind: Kind, _ message: String, offset: Int? = nil, context: String? = nil, file: String? = nil) {
        self.kind = kind
        self.message = message
        self.offset = offset
        self.context = context
        self.file = file
    }

    public var description: String {
        var parts: [String] = []
        if let file { parts.append(file) }
        var place: [String] = []
        if let offset { place.append("at byte \(offset)") }
        if let context, !context.isEmpty { place.append("in \(context)") }
        if !place.isEmpty { parts.append(place.joined(separator: " ")) }
        parts.append(message)
        return parts.joined(separator: ": ")
    }
}

/// Runs `body`; an `ONNXError` escaping it without a context gets `context`. The innermost
/// message decoder therefore names the place, and outer ones leave it alone.
@inline(__always)
func inContext<T>(_ context: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch var error as ONNXError {
        if error.context == nil { error.context = context() }
        throw error
    }
}
