import Foundation

/// 64-byte-aligned scratch memory reused across calls, so that the hot path does not allocate
/// once buffers have grown to the largest size asked for. Safe to use from many threads.
final class ScratchBuffer: @unchecked Sendable {
    private(set) var pointer: UnsafeMutableRawPointer
    private(set) var byteCount: Int

    init(byteCount: Int) {
        self.byteCount = max(byteCount, 64)
        pointer = .allocate(byteCount: self.byteCount, alignment: 64)
    }

    func ensure(byteCount needed: Int) {
        guard needed > byteCount else { return }
        pointer.deallocate()
        byteCount = needed
        pointer = .allocate(byteCount: needed, alignment: 64)
    }

    deinit { pointer.deallocate() }
}

enum ScratchPool {
    private static let free = FreeList()

    /// Runs `body` with a buffer of at least `byteCount` bytes owned by the caller until it returns.
    static func with<R>(byteCount: Int, _ body: (UnsafeMutableRawPointer) throws -> R) rethrows -> R {
        let buffer = free.pop() ?? ScratchBuffer(byteCount: byteCount)
        buffer.ensure(byteCount: byteCount)
        defer { free.push(buffer) }
        return try body(buffer.pointer)
    }

    /// The idle buffers, behind a pthread mutex (`NSLock`) rather than `Synchronization.Mutex`:
    /// ThreadSanitizer does not see the latter's lock and unlock on Linux and reports every
    /// buffer handed between threads as a race (docs/reliability.md). Taken twice per kernel
    /// call, uncontended almost always; the cost is the same tens of nanoseconds.
    private final class FreeList: @unchecked Sendable {
        private let lock = NSLock()
        private var buffers: [ScratchBuffer] = []

        func pop() -> ScratchBuffer? {
            lock.lock(); defer { lock.unlock() }
            return buffers.popLast()
        }

        func push(_ buffer: ScratchBuffer) {
            lock.lock(); defer { lock.unlock() }
            buffers.append(buffer)
        }
    }
}
