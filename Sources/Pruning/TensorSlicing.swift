import ONNXFormat

extension ONNXTensor {
    /// The tensor with only the entries `indices` (ascending, in range) along `axis`, data kept
    /// in the form the file stored it (raw bytes or the same typed field).
    ///
    /// - Throws: `PruningError` for element types without a whole-byte raw form (packed 4-bit
    ///   types) or data that does not hold `elementCount` elements.
    func keeping(_ indices: [Int], axis: Int) throws(PruningError) -> ONNXTensor {
        guard axis >= 0, axis < dims.count, indices.allSatisfy({ $0 >= 0 && $0 < dims[axis] }) else {
            throw PruningError("tensor '\(name)' \(dims): cannot keep entries \(indices.prefix(4))… of axis \(axis)")
        }
        let outer = dims[..<axis].reduce(1, *)
        let inner = dims[(axis + 1)...].reduce(1, *)
        let extent = dims[axis]
        func gather<T>(_ values: [T], perElement: Int) throws(PruningError) -> [T] {
            let block = inner * perElement
            guard values.count == outer * extent * block else {
                throw PruningError("tensor '\(name)' \(dims): stored data does not match its shape")
            }
            var result: [T] = []
            result.reserveCapacity(outer * indices.count * block)
            for o in 0..<outer {
                for i in indices {
                    let start = (o * extent + i) * block
                    result.append(contentsOf: values[start ..< start + block])
                }
            }
            return result
        }
        var copy = self
        copy.dims[axis] = indices.count
        switch data {
        case .raw(let bytes):
            guard let bits = dataType.bitWidth, bits % 8 == 0 else {
                throw PruningError("tensor '\(name)': cannot slice \(dataType.label) data")
            }
            copy.data = .raw(try gather(bytes, perElement: bits / 8))
        case .floatData(let v): copy.data = .floatData(try gather(v, perElement: dataType == .complex64 ? 2 : 1))
        case .doubleData(let v): copy.data = .doubleData(try gather(v, perElement: dataType == .complex128 ? 2 : 1))
        case .int32Data(let v): copy.data = .int32Data(try gather(v, perElement: 1))
        case .int64Data(let v): copy.data = .int64Data(try gather(v, perElement: 1))
        case .uint64Data(let v): copy.data = .uint64Data(try gather(v, perElement: 1))
        case .stringData(let v): copy.data = .stringData(try gather(v, perElement: 1))
        }
        return copy
    }
}
