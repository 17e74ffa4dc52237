/// A file that could not be read or written: the path, then the reason. Thrown by the helpers
/// below the measuring (`AtomicFile`, `SHA256.hex(ofFile:)`), which know nothing of the stage
/// that called them; the CLI maps it to exit 2 like every other input error.
public struct FileError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
