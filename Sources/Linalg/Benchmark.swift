import Dispatch

/// Timings of the kernels, for `weakspot bench` and docs/kernels.md.
public enum LinalgBenchmark {
    /// Median GFLOP/s (2·size³ per product) of `size`×`size`×`size` products C = A·B on
    /// pseudo-random data, over `repetitions` timed runs after one warm-up.
    public static func benchmarkGEMM(size: Int, threads: Int, repetitions: Int, isa: KernelISA = .selected) -> Double {
        let n = max(1, min(size, 8192))
        let count = n * n
        let a = UnsafeMutablePointer<Float>.allocate(capacity: count)
        let b = UnsafeMutablePointer<Float>.allocate(capacity: count)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        var state: UInt32 = 12345
        for i in 0..<count {
            state = state &* 1664525 &+ 1013904223
            a[i] = Float(state >> 8) / Float(1 << 24) - 0.5
            b[i] = Float((state >> 4) & 0xFFFF) / 65536 - 0.5
        }
        var seconds: [Double] = []
        for round in 0...max(1, repetitions) {
            let start = DispatchTime.now().uptimeNanoseconds
            try? GEMM.multiply(m: n, n: n, k: n, a: a, b: b, c: c, threads: threads, isa: isa)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if round > 0 { seconds.append(elapsed) }
        }
        seconds.sort()
        let median = seconds[seconds.count / 2]
        return 2 * Double(n) * Double(n) * Double(n) / median / 1e9
    }
}
