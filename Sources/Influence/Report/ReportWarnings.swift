import Support
/// The `warnings` of a report: plain sentences about what its figures cannot support, shown in
/// the terminal summary, the HTML page and the JSON (docs/report.md, "Warnings").
public enum ReportWarnings {
    /// Below this many inputs a bootstrap interval is too narrow to mean anything: the resamples
    /// can only reshuffle a handful of values, so the interval understates the spread.
    public static let meaningfulInputs = 8
    /// An item measured on fewer inputs has no interval (one value: ciLow = mean = ciHigh), so it
    /// is never marked weak: weak is a claim that needs evidence over inputs.
    public static let minimumInputsForWeak = 2

    /// The weak rule in one place: the whole interval below the threshold, from at least
    /// `minimumInputsForWeak` inputs.
    public static func isWeak(ciHigh: Double, n: Int, threshold: Double) -> Bool {
        n >= minimumInputsForWeak && ciHigh < threshold
    }

    /// The one warning of a `--measure none` report.
    public static let estimatesOnly = "no influence was measured (--measure none): items carry estimator scores only; influence, metrics, rank and weak are null"

    /// Why a command that acts on measured influence refuses a `--measure none` report.
    public static func estimatesOnlyRefusal(command: String) -> String {
        "written by 'profile --measure none': it holds estimator scores and no measured influence, which \(command) needs; profile without --measure none (plan accepts it with --criterion l1, l2, bn or taylor)"
    }

    /// The warnings for a report measured on `inputs` inputs with these items.
    public static func list(inputs: Int?, items: [JSONValue]) -> [String] {
        var warnings: [String] = []
        if let inputs, inputs < meaningfulInputs {
            warnings.append("the intervals are not meaningful: measured on \(inputs) input\(inputs == 1 ? "" : "s"), fewer than \(meaningfulInputs); "
                            + "a bootstrap over so few inputs understates the spread, so rank and weak flags are guesses: measure on more inputs")
        }
        // An adaptive item decided on one input carries its decision: it is not missing an interval.
        let degenerate = items.filter { ($0["influence"]?["n"]?.intValue ?? 0) < minimumInputsForWeak && ($0["adaptive"]?["decision"]?.stringValue ?? "allInputs") == "allInputs" }.count
        if degenerate > 0 {
            warnings.append("\(degenerate) item\(degenerate == 1 ? " was" : "s were") measured on fewer than \(minimumInputsForWeak) inputs: "
                            + "no interval (ciLow = ciHigh), so none of them is marked weak")
        }
        return warnings
    }
}
