/// What the planner found besides the removals and costs: predicted and measured damage, per-class
/// accuracy, whether the target and limits were met, and the latencies. One struct for the
/// planner's `PlanResult` and plan.json's `Plan`, which both carry it and expose its fields
/// directly (`result.measured`, `plan.targetMet`).
public struct PlanFigures: Sendable, Equatable {
    /// Σ of the removed groups' single-removal metrics (from the report), when all were measured.
    public var predicted: [String: Double]?
    /// The joint effect measured on the data (nil without data).
    public var measured: [String: Double]?
    public var classAccuracyBefore: [Int: Double]?
    public var classAccuracyAfter: [Int: Double]?
    public var targetMet: Bool
    public var limitsMet: Bool
    /// The largest selection that met the target broke a limit, so fewer groups were removed.
    public var backedOff: Bool
    /// Forward passes of verification.
    public var evaluations: Int
    /// With `--target latency=F`: the measured forward times (ms, batch 1).
    public var latencyBeforeMs: Double?
    public var latencyAfterMs: Double?

    public init(predicted: [String: Double]?, measured: [String: Double]?, classAccuracyBefore: [Int: Double]?, classAccuracyAfter: [Int: Double]?,
                targetMet: Bool, limitsMet: Bool, backedOff: Bool, evaluations: Int, latencyBeforeMs: Double?, latencyAfterMs: Double?) {
        self.predicted = predicted
        self.measured = measured
        self.classAccuracyBefore = classAccuracyBefore
        self.classAccuracyAfter = classAccuracyAfter
        self.targetMet = targetMet
        self.limitsMet = limitsMet
        self.backedOff = backedOff
        self.evaluations = evaluations
        self.latencyBeforeMs = latencyBeforeMs
        self.latencyAfterMs = latencyAfterMs
    }
}
