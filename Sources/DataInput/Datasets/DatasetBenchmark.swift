import Dispatch
import Foundation
import Support

extension Dataset {
    /// Throughput of reading, decoding and preprocessing the image files `paths` with `spec` (NCHW)
    /// on `threads` threads, in images per second (wall clock, file listing excluded). Each file is
    /// processed once; the first error is thrown (`ImageDecodingError` with its path, or
    /// `PreprocessError`). `weakspot bench --data DIR` reports this figure.
    public static func benchmarkPreprocessing(paths: [String], spec: PreprocessSpec, threads: Int) throws -> Double {
        guard !paths.isEmpty else { throw DatasetError("benchmark: expected at least one image file, got none") }
        try spec.validate()
        let workers = max(1, min(threads, paths.count, Parallel.maxParts))
        let firstError = Locked<(index: Int, error: any Error)?>(nil)
        let checksum = Locked<Float>(0)
        let start = DispatchTime.now().uptimeNanoseconds
        WorkerThreads.run(parts: workers) { worker in
            var local: Float = 0
            for i in stride(from: worker, to: paths.count, by: workers) {
                do {
                    let image = try ImageFileReader.decode(path: paths[i], limits: ImageLimits())
                    let values = try preprocess(image, spec: spec, layout: .nchw)
                    local += values.first ?? 0
                } catch {
                    firstError.withLock { current in
                        if i < (current?.index ?? Int.max) { current = (i, error) }
                    }
                }
            }
            let sum = local
            checksum.withLock { $0 += sum }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if let failure = firstError.withLock({ $0 }) { throw failure.error }
        _ = checksum.withLock { $0 }
        return Double(paths.count) / max(seconds, 1e-9)
    }
}
