import ONNXFormat

/// The ONNX integer type a quantized tensor is stored in, and its encoding as `raw_data`.
///
/// Weights of B ≤ 8 bits are int8 (values within ±(2^(B−1) − 1), so a 4-bit layer takes a byte per
/// weight on disk: WeakSpot's reader has no packed int4, and int4 DequantizeLinear needs opset 21,
/// which few exported CNNs declare). 9–16 bits are int16 from opset 21 (where DequantizeLinear
/// accepts it) and int32 before (which every DequantizeLinear since opset 10 accepts, with no zero
/// point). Activations are uint8, as onnxruntime's default QUInt8.
public enum IntegerStorage: Equatable, Sendable {
    case int8, int16, int32, uint8

    /// The type for a weight of `bits` bits in a model of `opset`.
    public static func weight(bits: Int, opset: Int) -> IntegerStorage {
        if bits <= 8 { return .int8 }
        return opset >= 21 ? .int16 : .int32
    }

    var dataType: ONNXDataType {
        switch self {
        case .int8: .int8
        case .int16: .int16
        case .int32: .int32
        case .uint8: .uint8
        }
    }

    /// int32 DequantizeLinear inputs take no zero point (ONNX: it must be 0, and is left out).
    public var hasZeroPoint: Bool { self != .int32 }

    /// Bytes one value takes in the file.
    public var bytes: Int {
        switch self {
        case .int8, .uint8: 1
        case .int16: 2
        case .int32: 4
        }
    }

    /// A tensor of these integers, little-endian `raw_data`. The values must fit the type (the
    /// quantizers clamp them; checked here so that a wrong value can never be written silently).
    func tensor(name: String, dims: [Int], values: [Int32]) -> ONNXTensor {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * (dataType.bitWidth! / 8))
        for v in values {
            switch self {
            case .int8:
                precondition(v >= -128 && v <= 127, "\(v) does not fit int8")
                bytes.append(UInt8(bitPattern: Int8(v)))
            case .uint8:
                precondition(v >= 0 && v <= 255, "\(v) does not fit uint8")
                bytes.append(UInt8(v))
            case .int16:
                precondition(v >= -32768 && v <= 32767, "\(v) does not fit int16")
                let u = UInt16(bitPattern: Int16(v))
                bytes.append(UInt8(u & 0xff)); bytes.append(UInt8(u >> 8))
            case .int32:
                let u = UInt32(bitPattern: v)
                for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8((u >> UInt32(shift)) & 0xff)) }
            }
        }
        return ONNXTensor(name: name, dataType: dataType, dims: dims, data: .raw(bytes))
    }
}
