import Foundation

/// CPU time the process has used so far (user + system, every thread): the measure of work that
/// other jobs on a shared machine do not inflate, unlike wall time. The report's
/// `timing.cpuSeconds` and the floor's CPU rate come from it.
public enum ProcessCPUTime {
    /// Seconds, or nil when getrusage fails.
    public static func seconds() -> Double? {
        guard let usage = ResourceUsage.ofProcess() else { return nil }
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}

/// getrusage(RUSAGE_SELF), spelled once for both platforms (`PeakMemory`, `ProcessCPUTime`).
enum ResourceUsage {
    static func ofProcess() -> rusage? {
        var usage = rusage()
        #if os(Linux)
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return nil }
        #else
        guard getrusage(RUSAGE_SELF, &usage) == 0 else { return nil }
        #endif
        return usage
    }
}
