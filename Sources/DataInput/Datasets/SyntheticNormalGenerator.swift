import Foundation
import Support

/// The `synthetic:N:SEED` inputs: a stream of standard-normal Float values, reproducible bit for
/// bit and addressable at any position (so batching and threading do not change it).
///
/// Definition. SplitMix64 value i (i = 0, 1, 2, ...) is `mix(seed &+ (i + 1) &* 0x9E3779B97F4A7C15)`
/// with `mix(z)`: `z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) &* 0x94D049BB133111EB;
/// z ^ (z >> 31)`. Element k of the stream (item n, position j of an item of E elements:
/// k = n * E + j, in the layout the model takes) uses the pair p = k / 2:
/// `u1 = ((value(2p) >> 11) + 1) / 2^53` in (0, 1], `u2 = (value(2p + 1) >> 11) / 2^53` in [0, 1),
/// `r = sqrt(-2 ln u1)`, `θ = 2π u2` (Box–Muller, in Double); element k is `Float(r cos θ)` when k is
/// even, `Float(r sin θ)` when odd. Bit-for-bit reproducibility assumes the same libm `log`, `cos`,
/// `sin` (glibc here).
public struct SyntheticNormalGenerator: Sendable {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    func value(_ i: UInt64) -> UInt64 { SplitMix64.value(seed: seed, index: i) }

    /// Element `k` of the stream.
    public func element(_ k: Int) -> Float {
        let p = UInt64(k / 2)
        let (r, theta) = BoxMuller.polar(value(2 * p), value(2 * p + 1))
        return Float(k % 2 == 0 ? r * cos(theta) : r * sin(theta))
    }

    /// Elements `start ..< start + count`.
    public func elements(from start: Int, count: Int) -> [Float] {
        (0..<count).map { element(start + $0) }
    }
}
