/// A fine-tuning failure the user can act on (bad options, data that does not fit the model, a
/// checkpoint from another run); the CLI maps it to exit code 2.
public struct TrainingError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
