import Foundation

/// Maps data values to SVG pixels along one axis and says where its labelled ticks go.
protocol ChartScale {
    func position(_ value: Double) -> Double
    var ticks: [(value: Double, label: String)] { get }
}

/// A log₁₀ axis spanning whole decades. Influence and magnitude scores span many decades and
/// include exact zeros (a channel no input ever activates), which a log axis cannot place; and a
/// few values of rounding noise (KL of 1e-12) would stretch the axis until the rest is a narrow
/// band. Values below `floor` — zeros, negatives, the smallest `outlierFraction` of the positive
/// values and anything more than `maxDecades` under the largest — are drawn at the floor, and
/// `isClamped` lets the chart count them.
struct LogScale: ChartScale {
    static let maxDecades = 9.0
    static let outlierFraction = 0.01
    let lowExponent: Int
    let highExponent: Int
    let start: Double
    let end: Double

    /// The decades covering the positive finite `values` (and `including`, e.g. a threshold).
    init(values: [Double], including: [Double] = [], start: Double, end: Double) {
        let positive = (values + including).filter { $0 > 0 && $0.isFinite }
        self.start = start
        self.end = end
        guard let largest = positive.max() else {
            (lowExponent, highExponent) = (-6, 0)
            return
        }
        let sorted = values.filter { $0 > 0 && $0.isFinite }.sorted()
        let typicalLow = sorted.isEmpty ? largest : sorted[Int(Double(sorted.count - 1) * Self.outlierFraction)]
        let bottom = max(min(typicalLow, including.filter { $0 > 0 }.min() ?? typicalLow), largest / pow(10, Self.maxDecades))
        let low = Int(log10(bottom).rounded(.down)), high = Int(log10(largest).rounded(.up))
        (lowExponent, highExponent) = (low, max(high, low + 1))
    }

    var floor: Double { pow(10, Double(lowExponent)) }

    func isClamped(_ value: Double) -> Bool { !(value >= floor) }

    func position(_ value: Double) -> Double {
        let exponent = value >= floor ? min(log10(value), Double(highExponent)) : Double(lowExponent)
        return start + (exponent - Double(lowExponent)) / Double(highExponent - lowExponent) * (end - start)
    }

    var ticks: [(value: Double, label: String)] {
        let span = highExponent - lowExponent
        let step = span > 8 ? 2 : 1
        return stride(from: lowExponent, through: highExponent, by: step).map { (pow(10, Double($0)), Self.powerLabel($0)) }
    }

    /// `10⁻³` with superscript digits.
    static func powerLabel(_ exponent: Int) -> String {
        let superscripts: [Character: Character] = ["0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹", "-": "⁻"]
        return "10" + String(String(exponent).map { superscripts[$0] ?? $0 })
    }
}

/// A linear axis from `low` to `high` with ticks at round numbers (1, 2 or 5 times a power of ten).
struct LinearScale: ChartScale {
    let low: Double
    let high: Double
    let start: Double
    let end: Double

    /// A domain from 0 (or the smallest value, when negative) to the largest value, widened to a
    /// round number; a domain of one value is widened to [0, 1].
    init(values: [Double], start: Double, end: Double) {
        let finite = values.filter(\.isFinite)
        let low = min(0, finite.min() ?? 0)
        var high = max(0, finite.max() ?? 1)
        if high <= low { high = low + 1 }
        let step = Self.step(span: high - low)
        self.low = (low / step).rounded(.down) * step
        self.high = (high / step).rounded(.up) * step
        self.start = start
        self.end = end
    }

    func position(_ value: Double) -> Double {
        let clamped = min(max(value.isFinite ? value : low, low), high)
        return start + (clamped - low) / (high - low) * (end - start)
    }

    var ticks: [(value: Double, label: String)] {
        let step = Self.step(span: high - low)
        var result: [(Double, String)] = []
        var value = low
        while value <= high + step / 2 {
            result.append((value, HTMLNumber.short(abs(value) < step / 1e6 ? 0 : value)))
            value += step
        }
        return result
    }

    /// A round step giving about five intervals.
    static func step(span: Double) -> Double {
        let raw = span / 5
        let power = pow(10, log10(raw).rounded(.down))
        let fraction = raw / power
        return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power
    }
}
