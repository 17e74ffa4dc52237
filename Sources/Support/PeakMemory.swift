import Foundation

/// The process's peak resident memory so far (the high-water mark of its RSS), for the report's
/// `timing.peakMemoryBytes`: what `--max-memory` and streamed inputs are meant to bound.
public enum PeakMemory {
    /// Linux: `VmHWM` of /proc/self/status; elsewhere getrusage's `ru_maxrss` (bytes on macOS).
    /// nil when neither can be read.
    public static func bytes() -> Int? {
        if let data = FileManager.default.contents(atPath: "/proc/self/status"),
           let line = String(decoding: data, as: UTF8.self).split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, let kib = Int(fields[1]) { return kib * 1024 }
        }
        guard let usage = ResourceUsage.ofProcess() else { return nil }
        #if os(Linux)
        return Int(usage.ru_maxrss) * 1024
        #else
        return Int(usage.ru_maxrss)
        #endif
    }
}
