import Foundation

/// Standard normal values from uniform 64-bit words (the Box–Muller transform, in Double), one
/// definition for every seeded normal stream (the `synthetic:` inputs, the `noise` perturbation)
/// so they stay reproducible bit for bit on any machine with the same libm.
public enum BoxMuller {
    /// From words `a`, `b`: u1 = ((a >> 11) + 1) / 2^53 in (0, 1], u2 = (b >> 11) / 2^53 in
    /// [0, 1); radius √(−2 ln u1), angle 2π u2. The two normals are radius·cos(angle) and
    /// radius·sin(angle); a caller that needs one computes only that one.
    public static func polar(_ a: UInt64, _ b: UInt64) -> (radius: Double, angle: Double) {
        let u1 = (Double(a >> 11) + 1) * 0x1p-53
        let u2 = Double(b >> 11) * 0x1p-53
        return ((-2 * log(u1)).squareRoot(), 2 * Double.pi * u2)
    }
}
