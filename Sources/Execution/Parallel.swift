import Dispatch

/// Runs `body(i)` for i in 0..<count on up to `threads` threads. Work is split into contiguous
/// chunks, one per thread; every index is handled by exactly one thread, so results that are
/// written per index do not depend on the thread count.
@inline(__always)
func parallelFor(_ count: Int, threads: Int, minimumPerThread: Int = 1, _ body: (Range<Int>) -> Void) {
    let workers = min(max(threads, 1), max(1, count / max(minimumPerThread, 1)))
    if workers <= 1 || count <= 1 {
        body(0..<count)
        return
    }
    let chunk = (count + workers - 1) / workers
    withoutActuallyEscaping(body) { body in
        nonisolated(unsafe) let body = body
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let start = w * chunk
            let end = min(count, start + chunk)
            if start < end { body(start..<end) }
        }
    }
}

/// A pointer that may cross into `parallelFor` closures; each thread writes a disjoint range.
struct SendablePointer<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
}
