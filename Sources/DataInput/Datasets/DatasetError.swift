/// A problem with the data as a whole rather than with one image's bytes: an unparsable `--data`
/// text, a missing folder, labels that do not match, a .npy of the wrong type or shape, images
/// that preprocess to different sizes. `description` is the one-line message the CLI prints
/// (exit code 2): where, then expected versus got.
public struct DatasetError: Error, CustomStringConvertible, Sendable, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
