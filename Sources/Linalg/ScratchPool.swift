import Foundation
import Support

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
    /// The idle buffers. Taken twice per kernel call, uncontended almost always. `Locked`, not
    /// `Synchronization.Mutex`: under TSan the latter made every buffer handed between threads
    /// look like a race (docs/reliability.md).
    private static let free = Locked<[ScratchBuffer]>([])

    /// Runs `body` with a buffer of at least `byteCount` bytes owned by the caller until it returns.
    static func with<R>(byteCount: Int, _ body: (UnsafeMutableRawPointer) throws -> R) rethrows -> R {
        let buffer = free.withLock { $0.popLast() } ?? ScratchBuffer(byteCount: byteCount)
        buffer.ensure(byteCount: byteCount)
        defer { free.withLock { $0.append(buffer) } }
        return try body(buffer.pointer)
    }
}
