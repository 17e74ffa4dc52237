/// Named tolerances, so that every numeric test states which contract it checks.
public enum Approximation: Sendable {
    /// Bit-identical.
    case exact
    /// |a - b| <= absolute + relative * |b|.
    case close(absolute: Float, relative: Float)
    /// max |a - b| <= fraction * max |reference|: the whole-model contract (1e-4 of the largest logit).
    case relativeToPeak(Float)
}

/// Compares `actual` with `reference` and returns nil when they agree, or a message naming the
/// first outlier's index, both values and the number of outliers.
public func mismatch(_ actual: [Float], _ reference: [Float], _ tolerance: Approximation) -> String? {
    guard actual.count == reference.count else {
        return "count differs: got \(actual.count), expected \(reference.count)"
    }
    var peak: Float = 0
    for r in reference { peak = max(peak, abs(r)) }
    var outliers = 0
    var first: Int? = nil
    var worst: Float = 0
    for i in 0..<actual.count {
        let a = actual[i], b = reference[i]
        let bound: Float
        switch tolerance {
        case .exact: bound = 0
        case let .close(absolute, relative): bound = absolute + relative * abs(b)
        case let .relativeToPeak(fraction): bound = fraction * peak
        }
        let d = abs(a - b)
        if !(d <= bound) || a.isNaN != b.isNaN {
            outliers += 1
            if first == nil { first = i }
            worst = max(worst, d.isNaN ? .infinity : d)
        }
    }
    guard let i = first else { return nil }
    return "\(outliers) of \(actual.count) outside \(tolerance); first at \(i): got \(actual[i]), expected \(reference[i]); worst |diff| \(worst), peak |reference| \(peak)"
}
