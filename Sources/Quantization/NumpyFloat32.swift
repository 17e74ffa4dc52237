import Foundation

/// The float32 arithmetic numpy performs inside onnxruntime's histogram calibrators, step by step,
/// so that our bin edges, bin growth and KL divergences round exactly as theirs do (a threshold is
/// a bin edge: one rounding apart is a different threshold). Each function names the numpy call it
/// reproduces; the evidence is Tests/QuantizationTests against Fixtures/calibration.
enum NumpyFloat32 {
    /// `np.linspace(first, last, bins + 1, dtype=float32)`: `i · step + first` with
    /// step = (last − first) / bins, each operation rounded to float32 (no fused multiply-add),
    /// and the last edge set to `last` exactly.
    static func linspaceEdges(from first: Float, to last: Float, bins: Int) -> [Float] {
        let delta = last - first
        let step = delta / Float(bins)
        var edges = [Float](repeating: 0, count: bins + 1)
        for i in 0...bins {
            if step == 0 {  // numpy's denormal branch: (i / bins) · delta
                let fraction = Float(i) / Float(bins)
                edges[i] = fraction * delta + first
            } else {
                let offset = Float(i) * step
                edges[i] = offset + first
            }
        }
        edges[bins] = last
        return edges
    }

    /// `np.histogram`'s outer edges: an empty range (first == last) is widened by 0.5 each side.
    static func outerEdges(_ first: Float, _ last: Float) -> (Float, Float) {
        first == last ? (first - 0.5, last + 0.5) : (first, last)
    }

    /// `np.arange(start, stop, step)` for float32 scalars, which numpy computes in float64: length
    /// ceil((stop − start) / step) with that quotient in float32, the second value
    /// float32(start + step), and element i = start + i · (second − start) in double.
    static func arange(start: Float, stop: Float, step: Float) -> [Double] {
        let quotient = (stop - start) / step
        let length = max(Int(Double(quotient).rounded(.up)), 0)
        let delta = Double(start + step) - Double(start)
        return (0..<length).map { Double(start) + Double($0) * delta }
    }

    /// The float32 `a // b` of numpy scalars (`npy_divmodf`): (a − fmod(a, b)) / b, moved down
    /// by one when the remainder's sign differs from b's, then snapped to the nearest integer.
    static func floorDivide(_ a: Float, _ b: Float) -> Float {
        let remainder = a.truncatingRemainder(dividingBy: b)
        guard b != 0 else { return a / b }
        var quotient = (a - remainder) / b
        if remainder != 0, (b < 0) != (remainder < 0) { quotient -= 1 }
        guard quotient != 0 else { return Float(signOf: a / b, magnitudeOf: 0) }
        var floored = quotient.rounded(.down)
        if quotient - floored > 0.5 { floored += 1 }
        return floored
    }

    /// `np.sum` of a contiguous float32 array: numpy's pairwise summation (blocks of at most 128
    /// summed with 8 interleaved accumulators, larger ranges split in two at a multiple of 8).
    static func pairwiseSum(_ values: UnsafeBufferPointer<Float>) -> Float {
        let n = values.count
        if n < 8 {
            var sum: Float = 0
            for v in values { sum += v }
            return sum
        }
        if n <= 128 {
            var r = (values[0], values[1], values[2], values[3], values[4], values[5], values[6], values[7])
            var i = 8
            while i < n - n % 8 {
                r.0 += values[i]; r.1 += values[i + 1]; r.2 += values[i + 2]; r.3 += values[i + 3]
                r.4 += values[i + 4]; r.5 += values[i + 5]; r.6 += values[i + 6]; r.7 += values[i + 7]
                i += 8
            }
            var sum = ((r.0 + r.1) + (r.2 + r.3)) + ((r.4 + r.5) + (r.6 + r.7))
            while i < n { sum += values[i]; i += 1 }
            return sum
        }
        var half = n / 2
        half -= half % 8
        return pairwiseSum(UnsafeBufferPointer(rebasing: values[0..<half]))
            + pairwiseSum(UnsafeBufferPointer(rebasing: values[half..<n]))
    }

    /// float32 natural logarithm, correctly rounded from double. numpy's own float32 `np.log`
    /// is a SIMD polynomial on AVX2/AVX-512 machines that differs from this by up to 3 ulp in ~6% of
    /// arguments (and from machine to machine), so KL divergences can differ in their last bits;
    /// the threshold search only notices when two candidates are within those bits.
    static func log(_ x: Float) -> Float { Float(Foundation.log(Double(x))) }
}
