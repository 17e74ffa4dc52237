/// Runs `body(part)` for part in 0..<parts on the caller and the worker pool's helpers.
public enum Parallel {
    /// Parts per thread for work that splits without duplicated effort. More parts let a thread
    /// that another process's load deschedules hold up less, but every part costs (its own
    /// loop setup and partial tiles): with two free cores, resnet18's 64→64 3×3 conv at batch 1
    /// took 1.30 ms with 8 parts per thread, 1.17 with 2 and 1.12 with 1 (2.19 on one thread);
    /// whole resnet18 at batch 1 29.9 / 27.5 / 26.9 ms, mobilenet_v2 10.0 / 9.3 / 9.6 ms.
    public static let partsPerWorker = 2

    /// The most parts one call is split into (the worker pool's limit).
    public static let maxParts = 255

    public static func run(workers: Int, _ body: (Int) -> Void) {
        if workers <= 1 {
            body(0)
        } else {
            WorkerPool.shared.run(parts: workers, body)
        }
    }

    /// The thread count actually used for a requested one: at least 1, at most 64.
    public static func clamp(threads: Int) -> Int { min(max(threads, 1), 64) }

    /// Splits `count` units into `parts` contiguous ranges whose sizes differ by at most one.
    public static func share(_ part: Int, of parts: Int, count: Int) -> Range<Int> {
        let base = count / parts, extra = count % parts
        let start = part * base + min(part, extra)
        return start..<(start + base + (part < extra ? 1 : 0))
    }
}

/// The kernels' persistent worker threads, for callers above Linalg that split long work
/// themselves (Execution's image-parallel runs), so they neither create threads per call nor
/// depend on `DispatchQueue.concurrentPerform`, which ran such loops on one core here.
public enum WorkerThreads {
    /// Runs `body(part)` for part in 0..<parts (at most 255) on the caller and the pool's helpers;
    /// returns when all have finished. Parts may run one after another (a busy pool, or fewer
    /// helpers than parts), so a part must not wait for another.
    public static func run(parts: Int, _ body: (Int) -> Void) {
        Parallel.run(workers: min(max(parts, 1), Parallel.maxParts), body)
    }

    /// Part `part` of `count` units split into `parts` contiguous ranges (sizes differ by at most one).
    public static func share(_ part: Int, of parts: Int, count: Int) -> Range<Int> {
        Parallel.share(part, of: parts, count: count)
    }
}

/// Runs `body(range)` over `0..<count` split into contiguous ranges, one per part, on the worker
/// pool: at most `threads` parts, each of at least `minimumPerThread` indices. Every index is in
/// exactly one range, so results written per index do not depend on the thread count. This is the
/// one parallel loop above the GEMM (Execution's kernels, the profiler's items, image decoding);
/// the GEMM and convolutions call `Parallel.run` directly with their own tiling.
public func parallelFor(_ count: Int, threads: Int, minimumPerThread: Int = 1, _ body: (Range<Int>) -> Void) {
    let parts = min(max(threads, 1), max(1, count / max(minimumPerThread, 1)), Parallel.maxParts)
    if parts <= 1 || count <= 1 {
        body(0..<count)
        return
    }
    Parallel.run(workers: parts) { part in
        let range = Parallel.share(part, of: parts, count: count)
        if !range.isEmpty { body(range) }
    }
}

/// A pointer that may cross into `parallelFor` closures; each part writes a disjoint range.
public struct SendablePointer<T>: @unchecked Sendable {
    public let base: UnsafeMutablePointer<T>
    public init(base: UnsafeMutablePointer<T>) { self.base = base }
}
