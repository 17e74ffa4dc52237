import Support

/// Pillow's bilinear resampling coefficients along one axis (Resample.c: `precompute_coeffs`
/// followed by `normalize_coeffs_8bpc`), for the output positions `window` of an `inSize` →
/// `outSize` resize. Computing only a window lets a center crop skip the discarded pixels while
/// every kept pixel stays byte-identical to Pillow's.
///
/// For output position `o`, the filter is the triangle `max(0, 1 - |t|)` stretched by the
/// reduction factor when downscaling (the antialiasing), centred on `(o + 0.5) * scale`; its
/// weights over input positions `first[o] ..< first[o] + taps[o]` are normalised to sum to one in
/// Double, then rounded to 22-bit fixed point (Pillow's PRECISION_BITS).
struct PILResampleAxis: Sendable {
    static let precisionBits: Int32 = 22

    let inSize: Int
    let outSize: Int
    let window: Range<Int>
    /// Stride of `weights`: the largest tap count any position may need.
    let stride: Int
    /// First input index, per window position.
    let first: [Int]
    /// Number of input indices, per window position.
    let taps: [Int]
    /// `window.count * stride` fixed-point weights; unused slots are zero.
    let weights: [Int32]

    init(inSize: Int, outSize: Int, window: Range<Int>) {
        self.inSize = inSize
        self.outSize = outSize
        self.window = window
        // Pillow: scale = (double)(in1 - in0) / outSize with in0 = 0 and in1 = inSize as float.
        let scale = Double(Float(inSize)) / Double(outSize)
        let filterScale = max(scale, 1.0)
        let support = 1.0 * filterScale
        let stride = Int(support.rounded(.up)) * 2 + 1
        self.stride = stride
        var first = [Int](repeating: 0, count: window.count)
        var taps = [Int](repeating: 0, count: window.count)
        var weights = [Int32](repeating: 0, count: window.count * stride)
        var k = [Double](repeating: 0, count: stride)
        let inverseScale = 1.0 / filterScale
        for (slot, o) in window.enumerated() {
            let center = 0.0 + (Double(o) + 0.5) * scale
            let lower = max(0, Int(center - support + 0.5))
            let upper = min(inSize, Int(center + support + 0.5))
            let count = min(max(0, upper - lower), stride)
            var total = 0.0
            for t in 0..<count {
                let w = PILResampleAxis.triangle((Double(t + lower) - center + 0.5) * inverseScale)
                k[t] = w
                total += w
            }
            for t in 0..<count {
                let w = total != 0.0 ? k[t] / total : k[t]
                let scaled = w * Double(1 << PILResampleAxis.precisionBits)
                weights[slot * stride + t] = Int32(w < 0 ? -0.5 + scaled : 0.5 + scaled)
            }
            first[slot] = lower
            taps[slot] = count
        }
        self.first = first
        self.taps = taps
        self.weights = weights
    }

    /// Pillow's `bilinear_filter`: support 1.
    static func triangle(_ x: Double) -> Double {
        let a = x < 0 ? -x : x
        return a < 1.0 ? 1.0 - a : 0.0
    }

    /// The input range that window positions `slots` read.
    func inputSpan(slots: Range<Int>) -> Range<Int> {
        guard !slots.isEmpty else { return 0..<0 }
        var low = Int.max, high = 0
        for s in slots where taps[s] > 0 {
            low = min(low, first[s])
            high = max(high, first[s] + taps[s])
        }
        return low <= high ? low..<high : 0..<0
    }
}

/// Coefficient tables per (input size, output size, window), shared by all images of a dataset so
/// that they are computed once. Bounded: cleared when it holds more than `capacity` tables.
final class PILResampleCache: Sendable {
    struct Key: Hashable { let inSize, outSize, start, end: Int }
    private let tables = Locked<[Key: PILResampleAxis]>([:])
    private let capacity = 256

    static let shared = PILResampleCache()

    func axis(inSize: Int, outSize: Int, window: Range<Int>) -> PILResampleAxis {
        let key = Key(inSize: inSize, outSize: outSize, start: window.lowerBound, end: window.upperBound)
        if let hit = tables.withLock({ $0[key] }) { return hit }
        let axis = PILResampleAxis(inSize: inSize, outSize: outSize, window: window)
        tables.withLock {
            if $0.count >= capacity { $0.removeAll() }
            $0[key] = axis
        }
        return axis
    }
}
