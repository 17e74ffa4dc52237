/// Exact widening of 16-bit floats to float32 (every float16 and bfloat16 value is a float32 value).
enum HalfPrecision {
    /// IEEE 754 binary16 bits to float32: normals, subnormals (m · 2^-24), ±0, ±inf, and NaN
    /// with its payload kept in the high mantissa bits.
    @inline(__always)
    static func float(fromFloat16 bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits) & 0x3FF
        switch exponent {
        case 0:
            // Zero or subnormal: mantissa · 2^-24 is exact in float32.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign != 0 ? -magnitude : magnitude
        case 0x1F:
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        default:
            return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
        }
    }

    /// bfloat16 bits are the high half of a float32.
    @inline(__always)
    static func float(fromBFloat16 bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }
}
