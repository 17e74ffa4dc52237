/// `TensorProto.DataType`: the element type of a tensor, with ONNX's numeric codes.
public enum ONNXDataType: Int32, Sendable, Equatable, CaseIterable {
    case undefined = 0
    case float = 1
    case uint8 = 2
    case int8 = 3
    case uint16 = 4
    case int16 = 5
    case int32 = 6
    case int64 = 7
    case string = 8
    case bool = 9
    case float16 = 10
    case double = 11
    case uint32 = 12
    case uint64 = 13
    case complex64 = 14
    case complex128 = 15
    case bfloat16 = 16
    case float8e4m3fn = 17
    case float8e4m3fnuz = 18
    case float8e5m2 = 19
    case float8e5m2fnuz = 20
    case uint4 = 21
    case int4 = 22
    case float4e2m1 = 23
    case float8e8m0 = 24
    case uint2 = 25
    case int2 = 26
    case float6e2m3 = 27
    case float6e3m2 = 28

    /// Bits one element occupies in `raw_data`; nil for `string` and `undefined`, which have no raw form.
    public var bitWidth: Int? {
        switch self {
        case .undefined, .string: return nil
        case .uint2, .int2: return 2
        case .uint4, .int4, .float4e2m1: return 4
        case .float6e2m3, .float6e3m2: return 6
        case .uint8, .int8, .bool, .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float8e8m0: return 8
        case .uint16, .int16, .float16, .bfloat16: return 16
        case .float, .int32, .uint32: return 32
        case .int64, .uint64, .double, .complex64: return 64
        case .complex128: return 128
        }
    }

    /// Bytes `count` elements occupy in `raw_data` (sub-byte types are packed and rounded up);
    /// nil when there is no raw form or the product overflows.
    public func rawByteCount(elements count: Int) -> Int? {
        guard let bits = bitWidth else { return nil }
        let (total, overflow) = count.multipliedReportingOverflow(by: bits)
        guard !overflow, total <= Int.max - 7 else { return nil }
        return (total + 7) / 8
    }

    /// ONNX's lower-case name, for messages (`float16`, `int64`).
    public var label: String { "\(self)" }
}
