/// A shape or size that the kernels cannot accept; `message` is a lower-case fragment saying
/// where, then expected versus got.
public struct LinalgError: Error, CustomStringConvertible, Equatable {
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// Checked arithmetic for sizes derived from caller data: never traps, throws instead.
enum Checked {
    static func product(_ factors: Int..., what: String) throws -> Int {
        var result = 1
        for f in factors {
            guard f >= 0 else { throw LinalgError("\(what): expected non-negative sizes, got \(factors)") }
            let (p, overflow) = result.multipliedReportingOverflow(by: f)
            guard !overflow else { throw LinalgError("\(what): size overflows, factors \(factors)") }
            result = p
        }
        return result
    }
}
