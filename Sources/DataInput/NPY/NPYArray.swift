/// An n-dimensional array as stored in a NumPy `.npy` file: C (row-major) order, one of five
/// element types. This is how WeakSpot exchanges inputs, labels and logits with Python.
public struct NPYArray: Sendable, Equatable {
    /// The element types WeakSpot reads and writes; their .npy descriptors are `<f4`, `<f8`, `<i8`,
    /// `<i4` and `|u1`.
    public enum DType: String, Sendable, CaseIterable {
        case float32, float64, int64, int32, uint8

        /// Bytes per element.
        public var size: Int {
            switch self {
            case .float32, .int32: 4
            case .float64, .int64: 8
            case .uint8: 1
            }
        }

        /// The little-endian (or byte-order-free) descriptor numpy writes for this type.
        public var descriptor: String {
            switch self {
            case .float32: "<f4"
            case .float64: "<f8"
            case .int64: "<i8"
            case .int32: "<i4"
            case .uint8: "|u1"
            }
        }
    }

    /// The elements, in C order.
    public enum Storage: Sendable, Equatable {
        case float32([Float])
        case float64([Double])
        case int64([Int64])
        case int32([Int32])
        case uint8([UInt8])

        public var count: Int {
            switch self {
            case .float32(let v): v.count
            case .float64(let v): v.count
            case .int64(let v): v.count
            case .int32(let v): v.count
            case .uint8(let v): v.count
            }
        }
    }

    /// Dimensions, outermost first; `[]` for a scalar (one element).
    public let shape: [Int]
    public let storage: Storage

    public var dtype: DType {
        switch storage {
        case .float32: .float32
        case .float64: .float64
        case .int64: .int64
        case .int32: .int32
        case .uint8: .uint8
        }
    }

    /// Number of elements: the product of `shape` (1 for a scalar).
    public var count: Int { storage.count }

    /// - Precondition: `storage.count` equals the product of `shape` and no dimension is negative
    ///   (a programming error, never reachable from file contents: the reader checks these).
    public init(shape: [Int], storage: Storage) {
        precondition(shape.allSatisfy { $0 >= 0 }, "npy shape has a negative dimension")
        precondition(NPYArray.elementCount(shape) == storage.count, "npy shape does not match the element count")
        self.shape = shape
        self.storage = storage
    }

    public init(shape: [Int], floats: [Float]) { self.init(shape: shape, storage: .float32(floats)) }
    public init(shape: [Int], int64s: [Int64]) { self.init(shape: shape, storage: .int64(int64s)) }
    public init(shape: [Int], uint8s: [UInt8]) { self.init(shape: shape, storage: .uint8(uint8s)) }

    /// The elements as Float, converting (float64 and large integers round to nearest).
    public func floats() -> [Float] {
        switch storage {
        case .float32(let v): v
        case .float64(let v): v.map { Float($0) }
        case .int64(let v): v.map { Float($0) }
        case .int32(let v): v.map { Float($0) }
        case .uint8(let v): v.map { Float($0) }
        }
    }

    /// The elements as Int64. Integer types convert exactly; floating-point values are truncated
    /// toward zero and clamped to Int64's range, NaN becomes 0 (callers wanting integers only,
    /// such as the labels reader, check `dtype` first).
    public func int64s() -> [Int64] {
        switch storage {
        case .float32(let v): v.map { NPYArray.clampedInt64(Double($0)) }
        case .float64(let v): v.map { NPYArray.clampedInt64($0) }
        case .int64(let v): v
        case .int32(let v): v.map { Int64($0) }
        case .uint8(let v): v.map { Int64($0) }
        }
    }

    /// The elements as UInt8: exact for uint8; other types are clamped to 0...255 (floating-point
    /// values truncated toward zero, NaN becomes 0).
    public func uint8s() -> [UInt8] {
        switch storage {
        case .uint8(let v): v
        case .int64(let v): v.map { UInt8(clamping: $0) }
        case .int32(let v): v.map { UInt8(clamping: $0) }
        case .float32(let v): v.map { UInt8(clamping: NPYArray.clampedInt64(Double($0))) }
        case .float64(let v): v.map { UInt8(clamping: NPYArray.clampedInt64($0)) }
        }
    }

    static func clampedInt64(_ x: Double) -> Int64 {
        if x.isNaN { return 0 }
        if x >= 9.223372036854775807e18 { return .max }
        if x <= -9.223372036854775808e18 { return .min }
        return Int64(x)
    }

    /// Product of the dimensions, or nil when it overflows `Int` or a dimension is negative.
    static func elementCount(_ shape: [Int]) -> Int? {
        var total = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = total.multipliedReportingOverflow(by: dimension)
            guard !overflow else { return nil }
            total = product
        }
        return total
    }
}
