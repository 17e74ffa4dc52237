/// A dense float32 tensor in row-major (C) order. Activations are NCHW unless a name or doc
/// comment says otherwise; convolution weights are OIHW.
///
/// A value type: copies share storage until one is mutated (copy-on-write of the array).
public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    public var storage: [Float]

    public init(shape: [Int], storage: [Float]) {
        precondition(shape.reduce(1, *) == storage.count, "storage count \(storage.count) does not match shape \(shape)")
        self.shape = shape
        self.storage = storage
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.shape = shape
        self.storage = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    /// A tensor whose storage is written by `initializer`, which must set every element; avoids
    /// zero-filling outputs that a kernel overwrites anyway.
    public init(shape: [Int], uninitialized initializer: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        let count = shape.reduce(1, *)
        self.shape = shape
        self.storage = try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            try initializer(buffer)
            initialized = count
        }
    }

    public var count: Int { storage.count }
    public var rank: Int { shape.count }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        "Tensor(\(shape.map(String.init).joined(separator: "x")))"
    }
}
