/// Safety limits for reading untrusted ONNX files. Each limit's error message names the
/// command-line option that raises it, so the user knows what to do.
///
/// Nothing is ever allocated in proportion to a size the file merely declares: tensor data is
/// copied only from bytes that exist, and declared element counts are checked against these
/// limits and against the bytes that back them before any use.
public struct ONNXLimits: Sendable, Equatable {
    /// Largest element count of one tensor (product of its dims). Default 2^30 (4 GiB of float32):
    /// larger than any CNN weight, while 2^31 − 1 would let a single hostile tensor ask for 8 GiB
    /// of float32 or 16 GiB of int64 when converted. Option: `--max-tensor-elements`.
    public var maxTensorElements: Int
    /// Deepest nesting of protobuf groups inside skipped unknown fields. Default 64. (Known
    /// messages nest to a fixed depth: subgraphs and nested sequence/map types are not descended
    /// into, so no input can drive recursion.) Option: `--max-nesting-depth`.
    public var maxNestingDepth: Int
    /// Longest single string or bytes field (names, doc strings, string attributes, string tensor
    /// elements); tensor `raw_data` is governed by the tensor limits instead. Default 16 MiB.
    /// Option: `--max-string-bytes`.
    public var maxStringBytes: Int
    /// Bound on (declared initializer bytes) / (bytes of the model file plus the external data it
    /// reads). A consistent file stays at or below 8 (one-byte varints decoded to int64); the
    /// default 8 therefore only refuses declarations that the file does not back. Option:
    /// `--max-initializer-bytes-ratio`.
    public var maxTotalInitializerBytesRatio: Double

    public init(
        maxTensorElements: Int = 1 << 30,
        maxNestingDepth: Int = 64,
        maxStringBytes: Int = 1 << 24,
        maxTotalInitializerBytesRatio: Double = 8
    ) {
        self.maxTensorElements = maxTensorElements
        self.maxNestingDepth = maxNestingDepth
        self.maxStringBytes = maxStringBytes
        self.maxTotalInitializerBytesRatio = maxTotalInitializerBytesRatio
    }
}
