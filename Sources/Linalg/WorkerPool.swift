import CKernels
import Dispatch
import Foundation
import Synchronization

/// Persistent helper threads for kernel calls that last tens of microseconds.
///
/// `DispatchQueue.concurrentPerform` wakes its workers too late for such calls (measured here:
/// two 20 µs halves take 40 µs, i.e. run serially), so helpers spin briefly after each job
/// waiting for the next one, then sleep on a condition. One job runs at a time; a caller that
/// finds the pool busy, or asks for more workers than it has, falls back to concurrentPerform.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool(helpers: max(ProcessInfo.processInfo.activeProcessorCount - 1, 0))

    /// How long an idle helper spins before sleeping.
    private static let spinNanoseconds: UInt64 = 200_000

    private let helpers: Int
    private let generation = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private let busy = Mutex<Bool>(false)
    private let wakeup = NSCondition()
    /// Written by the caller before `generation` is bumped (release), read by helpers after they
    /// observe the new generation (acquire).
    private var job: ((Int) -> Void)?
    private var jobWorkers = 0

    private init(helpers: Int) {
        self.helpers = helpers
        for index in 0..<helpers {
            let thread = Thread { [unowned self] in self.helperLoop(index: index + 1) }
            thread.name = "weakspot-kernels-\(index + 1)"
            thread.start()
        }
    }

    /// Runs `body(worker)` for worker in 0..<workers and returns when all have finished.
    func run(workers: Int, _ body: (Int) -> Void) {
        let acquired = busy.withLock { taken -> Bool in
            if taken { return false }
            taken = true
            return true
        }
        guard acquired, workers - 1 <= helpers else {
            if acquired { busy.withLock { $0 = false } }
            withoutActuallyEscaping(body) { escapable in
                let box = UncheckedBody(body: escapable)
                DispatchQueue.concurrentPerform(iterations: workers) { box.body($0) }
            }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            job = escapable
            jobWorkers = workers
            pending.store(helpers, ordering: .relaxed)
            generation.add(1, ordering: .releasing)
            wakeup.lock()
            wakeup.broadcast()
            wakeup.unlock()
            escapable(0)
            var spins = 0
            while pending.load(ordering: .acquiring) > 0 {
                spins += 1
                if spins < 4096 { ck_cpu_relax() } else { sched_yield() }
            }
            job = nil
        }
        busy.withLock { $0 = false }
    }

    private func helperLoop(index: Int) {
        var seen = 0
        while true {
            var spins = 0
            var spinStart: UInt64 = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins & 255 == 0 {
                    let now = DispatchTime.now().uptimeNanoseconds
                    if spinStart == 0 { spinStart = now }
                    if now - spinStart > Self.spinNanoseconds {
                        wakeup.lock()
                        while generation.load(ordering: .acquiring) == seen { wakeup.wait() }
                        wakeup.unlock()
                    }
                }
                ck_cpu_relax()
            }
            seen = generation.load(ordering: .acquiring)
            if index < jobWorkers, let job { job(index) }
            pending.subtract(1, ordering: .releasing)
        }
    }

    private struct UncheckedBody: @unchecked Sendable {
        let body: (Int) -> Void
    }
}
