import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SIGINT as a flag that long commands poll between units of work, so Ctrl-C ends them after
/// saving their checkpoint instead of in the middle of a write. The handler only stores to an
/// atomic and restores the default action (async-signal-safe), so a second Ctrl-C kills at once.
enum InterruptSignal {
    private static let flag = Atomic<Bool>(false)

    static var received: Bool { flag.load(ordering: .relaxed) }

    static func install() {
        flag.store(false, ordering: .relaxed)
        signal(SIGINT) { _ in
            InterruptSignal.flag.store(true, ordering: .relaxed)
            signal(SIGINT, SIG_DFL)
        }
    }

    /// Back to the default action (in-process callers, such as tests, keep their own behaviour).
    static func uninstall() {
        signal(SIGINT, SIG_DFL)
    }
}
