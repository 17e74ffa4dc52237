import CKernels
import Dispatch
import Foundation
import Synchronization

/// Persistent helper threads for kernel calls that last tens of microseconds.
///
/// `DispatchQueue.concurrentPerform` wakes its workers too late for such calls (measured here:
/// two 20 µs halves take 40 µs, i.e. run serially). Here the caller publishes a job, helpers
/// that are awake claim its parts, and the caller claims parts too, so a helper that is late
/// (asleep, or sharing the caller's CPU with another process's load) costs nothing: the caller
/// simply runs that part itself. Which thread runs a part never changes what it computes.
///
/// Helpers spin for 200 µs after a job, waiting for the next one, then sleep on a
/// condition. One job runs at a time; a caller that finds the pool busy runs every part itself.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool(helpers: max(ProcessInfo.processInfo.activeProcessorCount - 1, 0))

    private static let spinNanoseconds: UInt64 = 200_000

    /// serial << 16 | parts << 8 | next part. A claim is a compare-exchange on the whole word, so
    /// a helper can only ever claim a part of the job whose serial it observed.
    private let state = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let wakeup = NSCondition()
    /// Written before `state` is published (release), read after a successful claim (acquire).
    private var job: ((Int) -> Void)?

    private init(helpers: Int) {
        for index in 0..<helpers {
            let thread = Thread { [unowned self] in self.helperLoop() }
            thread.name = "weakspot-kernels-\(index + 1)"
            thread.start()
        }
    }

    /// Runs `body(part)` for part in 0..<parts (at most 255) and returns when all have finished.
    func run(parts: Int, _ body: (Int) -> Void) {
        guard parts > 1, parts < 256,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for part in 0..<parts { body(part) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            job = escapable
            finished.store(0, ordering: .relaxed)
            let serial = ((state.load(ordering: .relaxed) >> 16) + 1) & 0xFFFF_FFFF
            state.store(serial << 16 | parts << 8, ordering: .releasing)
            wakeup.lock()
            wakeup.broadcast()
            wakeup.unlock()
            claimParts(serial: serial)
            var spins = 0
            while finished.load(ordering: .acquiring) < parts {
                spins += 1
                if spins < 2048 { ck_cpu_relax() } else { sched_yield() }
            }
            job = nil
        }
        busy.store(false, ordering: .releasing)
    }

    /// Claims and runs parts of job `serial` until none is left.
    private func claimParts(serial: Int) {
        while true {
            let word = state.load(ordering: .acquiring)
            let parts = (word >> 8) & 0xFF, next = word & 0xFF
            guard word >> 16 == serial, next < parts else { return }
            guard state.compareExchange(expected: word, desired: word + 1, ordering: .acquiringAndReleasing).exchanged else {
                continue
            }
            job?(next)
            finished.add(1, ordering: .releasing)
        }
    }

    private func helperLoop() {
        var seen = state.load(ordering: .acquiring) >> 16
        while true {
            var spins = 0
            var spinStart: UInt64 = 0
            while state.load(ordering: .acquiring) >> 16 == seen {
                spins += 1
                if spins & 63 == 0 {
                    let now = DispatchTime.now().uptimeNanoseconds
                    if spinStart == 0 { spinStart = now }
                    if now - spinStart > Self.spinNanoseconds {
                        wakeup.lock()
                        while state.load(ordering: .acquiring) >> 16 == seen { wakeup.wait() }
                        wakeup.unlock()
                    }
                } else {
                    ck_cpu_relax()
                }
            }
            seen = state.load(ordering: .acquiring) >> 16
            claimParts(serial: seen)
        }
    }
}
