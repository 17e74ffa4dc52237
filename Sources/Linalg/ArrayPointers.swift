extension Optional where Wrapped == [Float] {
    /// Calls `body` with the array's base address, or nil when there is no array.
    func withUnsafeBufferPointer<R>(fallback: Void, _ body: (UnsafePointer<Float>?) throws -> R) rethrows -> R {
        switch self {
        case .none: return try body(nil)
        case let .some(array): return try array.withUnsafeBufferPointer { try body($0.baseAddress) }
        }
    }
}
