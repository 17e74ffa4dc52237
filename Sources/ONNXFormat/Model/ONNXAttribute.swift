/// `AttributeProto`: a named operator parameter.
public struct ONNXAttribute: Sendable, Equatable {
    public var name: String
    public var value: Value

    public init(name: String, value: Value) {
        self.name = name
        self.value = value
    }

    /// The attribute's value, discriminated by `AttributeProto.type` (or, in files that omit it,
    /// by which field is present). Equality compares floats bit for bit.
    public enum Value: Sendable, Equatable {
        case float(Float)
        case int(Int64)
        /// `s`: bytes, UTF-8 by convention (see `ONNXAttribute.stringValue`).
        case string([UInt8])
        case tensor(ONNXTensor)
        case floats([Float])
        case ints([Int64])
        case strings([[UInt8]])
        case tensors([ONNXTensor])
        /// A graph, sparse tensor or type-proto value, which this library does not interpret (so an
        /// `If` or `Loop` node can be reported clearly later). Kept byte for byte for the writer.
        case unsupported(ONNXOpaqueAttribute)

        public static func == (a: Value, b: Value) -> Bool {
            switch (a, b) {
            case let (.float(x), .float(y)): return x.bitPattern == y.bitPattern
            case let (.int(x), .int(y)): return x == y
            case let (.string(x), .string(y)): return x == y
            case let (.tensor(x), .tensor(y)): return x == y
            case let (.floats(x), .floats(y)): return x.map(\.bitPattern) == y.map(\.bitPattern)
            case let (.ints(x), .ints(y)): return x == y
            case let (.strings(x), .strings(y)): return x == y
            case let (.tensors(x), .tensors(y)): return x == y
            case let (.unsupported(x), .unsupported(y)): return x == y
            default: return false
            }
        }
    }

    public var intValue: Int64? { if case let .int(v) = value { return v } else { return nil } }
    public var floatValue: Float? { if case let .float(v) = value { return v } else { return nil } }
    public var intsValue: [Int64]? { if case let .ints(v) = value { return v } else { return nil } }
    public var floatsValue: [Float]? { if case let .floats(v) = value { return v } else { return nil } }
    public var tensorValue: ONNXTensor? { if case let .tensor(v) = value { return v } else { return nil } }
    /// `s` decoded as UTF-8 (invalid sequences become U+FFFD).
    public var stringValue: String? {
        if case let .string(v) = value { return String(decoding: v, as: UTF8.self) } else { return nil }
    }

    /// The kind name ONNX uses for this value ("ints", "tensor", "graph"...), for messages.
    public var kindLabel: String {
        switch value {
        case .float: return "float"
        case .int: return "int"
        case .string: return "string"
        case .tensor: return "tensor"
        case .floats: return "floats"
        case .ints: return "ints"
        case .strings: return "strings"
        case .tensors: return "tensors"
        case let .unsupported(opaque): return opaque.kind.rawValue
        }
    }
}

/// An attribute value this library keeps but does not interpret.
public struct ONNXOpaqueAttribute: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        case graph, graphs
        case sparseTensor = "sparse_tensor"
        case sparseTensors = "sparse_tensors"
        case typeProto = "type_proto"
        case typeProtos = "type_protos"

        /// `AttributeProto.AttributeType` code.
        var typeCode: Int32 {
            switch self {
            case .graph: return 5
            case .graphs: return 10
            case .sparseTensor: return 11
            case .sparseTensors: return 12
            case .typeProto: return 13
            case .typeProtos: return 14
            }
        }
    }

    public var kind: Kind
    /// The value's fields exactly as read (keys included), re-emitted verbatim by the writer.
    public var encodedFields: [UInt8]

    /// True for `graph` and `graphs` (control flow such as `If`, `Loop`, `Scan`).
    public var isSubgraph: Bool { kind == .graph || kind == .graphs }
}
