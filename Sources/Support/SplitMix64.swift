/// SplitMix64: a tiny, well-mixed, documented generator, so bootstrap intervals are reproducible
/// bit for bit on any machine.
public struct SplitMix64: Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= Self.increment
        return Self.mixed(state)
    }

    /// The value `next()` returns at position `index` (0, 1, …) of the stream seeded `seed`,
    /// without running through the ones before (streams addressable at any position).
    public static func value(seed: UInt64, index: UInt64) -> UInt64 {
        mixed(seed &+ (index &+ 1) &* increment)
    }

    static let increment: UInt64 = 0x9E37_79B9_7F4A_7C15

    static func mixed(_ state: UInt64) -> UInt64 {
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in [0, 1) from the top 53 bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A uniform integer in 0..<bound (bound > 0), by Lemire's multiply-shift; the tiny modulo
    /// bias is irrelevant for shuffling and augmentation.
    public mutating func next(below bound: Int) -> Int {
        Int((UInt128(next()) &* UInt128(UInt64(bound))) >> 64)
    }
}
