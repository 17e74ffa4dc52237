import Foundation

/// A value behind a pthread mutex (`NSLock`). Used instead of `Synchronization.Mutex` everywhere
/// threads share state: ThreadSanitizer on Linux does not see `Mutex`'s futex-based lock and
/// unlock, so it can neither confirm nor refute the ordering a `Mutex` gives, while it intercepts
/// pthread mutexes (docs/reliability.md). Same call shape as `Mutex.withLock`.
public final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
