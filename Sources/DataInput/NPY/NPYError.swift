/// Why a `.npy` file could not be read or written. `description` is the one-line message the CLI
/// prints (exit code 2): the file, the place in it, then what was expected versus what was found.
public struct NPYError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Not a .npy file: wrong magic or an unknown format version.
        case notNPY
        /// The header dictionary could not be parsed, or a field has an invalid value.
        case badHeader
        /// A valid header asking for something this reader does not do (dtype, Fortran order).
        case unsupported
        /// The file ends before the data the header declares.
        case truncated
        /// The file could not be opened, read or written.
        case io
    }

    public var kind: Kind
    /// Where in the file: "magic", "header length", "header 'shape'", "data", ...
    public var place: String
    public var reason: String
    /// Filled in by the functions that know the path.
    public var file: String?

    public init(_ kind: Kind, at place: String, _ reason: String, file: String? = nil) {
        self.kind = kind
        self.place = place
        self.reason = reason
        self.file = file
    }

    public var description: String {
        (file.map { "\($0): " } ?? "") + "\(place): \(reason)"
    }

    func inFile(_ path: String) -> NPYError {
        var copy = self
        copy.file = path
        return copy
    }
}
