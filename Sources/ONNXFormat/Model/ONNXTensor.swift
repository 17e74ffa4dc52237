/// `TensorProto`: a constant tensor (an initializer or an attribute value).
///
/// The data is kept in the form the file stored it (`raw_data` or one typed field), so that
/// `ONNXModel.encoded()` writes it back unchanged; `floats()` and `int64s()` convert on demand.
/// A decoded tensor is always consistent: its dims are non-negative, `elementCount` is their
/// product (1 for a scalar) and the data holds exactly that many elements (exotic types excepted,
/// see `ONNXTensorData`). External data is read at load and kept as `.raw`.
public struct ONNXTensor: Sendable, Equatable {
    public var name: String
    public var dataType: ONNXDataType
    /// Row-major dims, outermost first (OIHW for a Conv weight).
    public var dims: [Int]
    public var data: ONNXTensorData
    public var docString: String

    public init(name: String, dataType: ONNXDataType, dims: [Int], data: ONNXTensorData, docString: String = "") {
        self.name = name
        self.dataType = dataType
        self.dims = dims
        self.data = data
        self.docString = docString
    }

    /// A float32 tensor stored as `raw_data`; `floats.count` should equal the product of `dims`.
    public init(name: String, floats: [Float], dims: [Int]) {
        self.init(name: name, dataType: .float, dims: dims,
                  data: .raw(LittleEndianBytes.bytes(of: floats)))
    }

    /// An int64 tensor stored as `raw_data`; `int64s.count` should equal the product of `dims`.
    public init(name: String, int64s: [Int64], dims: [Int]) {
        self.init(name: name, dataType: .int64, dims: dims, data: .raw(LittleEndianBytes.bytes(of: int64s)))
    }

    /// Product of the dims (1 for a scalar); 0 if it overflows (never the case for a decoded tensor).
    public var elementCount: Int {
        var count = 1
        for d in dims {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            if overflow || d < 0 { return 0 }
            count = product
        }
        return count
    }
}

/// Where a tensor's elements are, exactly as `TensorProto` stored them.
///
/// Typed fields follow ONNX's rules: `int32Data` holds int32, int16, int8, uint16, uint8, bool,
/// float16 and bfloat16 (the last two as bit patterns), and the float8 types; `uint64Data` holds
/// uint32 and uint64; `floatData` holds float and complex64 (two per element); `doubleData` holds
/// double and complex128. Equality compares floating-point values bit for bit (NaN equals itself).
public enum ONNXTensorData: Sendable, Equatable {
    /// `raw_data`: little-endian elements, sub-byte types packed.
    case raw([UInt8])
    case floatData([Float])
    case int32Data([Int32])
    case int64Data([Int64])
    case doubleData([Double])
    case uint64Data([UInt64])
    case stringData([[UInt8]])

    /// Number of stored values (bytes for `.raw`).
    public var storedCount: Int {
        switch self {
        case let .raw(v): return v.count
        case let .floatData(v): return v.count
        case let .int32Data(v): return v.count
        case let .int64Data(v): return v.count
        case let .doubleData(v): return v.count
        case let .uint64Data(v): return v.count
        case let .stringData(v): return v.count
        }
    }

    public static func == (a: ONNXTensorData, b: ONNXTensorData) -> Bool {
        switch (a, b) {
        case let (.raw(x), .raw(y)): return x == y
        case let (.floatData(x), .floatData(y)): return x.map(\.bitPattern) == y.map(\.bitPattern)
        case let (.int32Data(x), .int32Data(y)): return x == y
        case let (.int64Data(x), .int64Data(y)): return x == y
        case let (.doubleData(x), .doubleData(y)): return x.map(\.bitPattern) == y.map(\.bitPattern)
        case let (.uint64Data(x), .uint64Data(y)): return x == y
        case let (.stringData(x), .stringData(y)): return x == y
        default: return false
        }
    }
}
