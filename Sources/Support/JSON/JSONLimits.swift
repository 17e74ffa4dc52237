/// What a JSON file read from outside (a report, a plan, a checkpoint) may demand: bytes read
/// into memory and nesting depth (the parser recurses per level, so depth bounds its stack).
/// The defaults (1 GiB, 256 levels) sit far above what WeakSpot writes (its reports nest 5
/// levels); the command line changes them with `--max-json-bytes` and `--max-json-depth`, and
/// the errors name those options.
public struct JSONLimits: Sendable, Equatable {
    public var maxBytes: Int
    public var maxDepth: Int

    public init(maxBytes: Int = 1 << 30, maxDepth: Int = 256) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
    }

    /// The message for a file over `maxBytes`.
    public func sizeError(bytes: Int) -> String {
        "\(bytes) bytes: expected at most \(maxBytes) bytes of JSON (raise with --max-json-bytes)"
    }
}
