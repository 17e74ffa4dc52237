import Dispatch
import Foundation
import Support

/// Where a profile's time goes, phase by phase: the report's `timing.phases`.
///
/// The floor (`ProfileFloor`) says what the cones must cost; this says what the run actually
/// spent, so a `floorRatio` above 1 can be traced to a phase instead of guessed at. Wall phases
/// are measured on the thread that drives the run and add up to at most `timing.seconds`;
/// item work runs on several threads at once, so cones and metrics are thread-seconds.
public final class ProfilePhases: @unchecked Sendable {
    /// Phases of the driving thread, in the order a batch passes through them.
    public enum Phase: String, CaseIterable, Sendable {
        /// Reading, decoding and preprocessing the next batch of inputs.
        case inputs
        /// The unperturbed pass over a batch that caches every activation.
        case baseline
        /// Activation statistics and taylor scores (the estimators that need the data).
        case estimators
        /// Waves of items measured side by side (wall time of the waves).
        case items
        /// Writing checkpoints.
        case checkpoints
    }

    private let lock = NSLock()
    private var wall: [Phase: Double] = [:]
    private var cones = 0.0
    private var metrics = 0.0

    public init() {}

    /// Runs `body` and adds its wall time to `phase`.
    public func time<T>(_ phase: Phase, _ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { add(phase, seconds: Self.seconds(since: start)) }
        return try body()
    }

    public func add(_ phase: Phase, seconds: Double) {
        lock.lock(); wall[phase, default: 0] += seconds; lock.unlock()
    }

    /// One item's work on one worker thread: recomputing its cone, and comparing the outputs.
    public func addItemWork(cone: Double, metrics m: Double) {
        lock.lock(); cones += cone; metrics += m; lock.unlock()
    }

    public static func seconds(since start: UInt64) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds &- start) / 1e9
    }

    /// `{phase: seconds…, other: the rest of total, itemThreadSeconds: {cones, metrics}}`, in
    /// milliseconds' precision.
    public func json(total: Double) -> JSONValue {
        lock.lock(); defer { lock.unlock() }
        func rounded(_ x: Double) -> JSONValue { .double((x * 1000).rounded() / 1000) }
        var object: [String: JSONValue] = [:]
        for phase in Phase.allCases { object[phase.rawValue] = rounded(wall[phase] ?? 0) }
        object["other"] = rounded(max(0, total - wall.values.reduce(0, +)))
        object["itemThreadSeconds"] = .object(["cones": rounded(cones), "metrics": rounded(metrics)])
        return .object(object)
    }
}
