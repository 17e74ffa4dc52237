extension NPYArray {
    /// The elements as float32 for a model input, never rounded silently: float32 is taken as
    /// is; float64, int64 and int32 only when every element is exactly a float32 value (pixel
    /// values 0...255 saved as float64 are). The first element that is not throws, naming its
    /// index (`firstItem` is this array's first item in the file) and the fix; a float64 value
    /// beyond float32's range is named as such, since `astype` would turn it into inf.
    public func exactFloats(firstItem: Int = 0) throws(NPYError) -> [Float] {
        switch storage {
        case .float32(let v): return v
        case .uint8(let v): return v.map { Float($0) }
        case .float64(let v):
            var result = [Float]()
            result.reserveCapacity(v.count)
            for (i, d) in v.enumerated() {
                let f = Float(d)
                if Double(f) == d || d.isNaN { result.append(f); continue }
                if f.isInfinite {
                    throw NPYError(.unsupported, at: "data\(index(i, firstItem))",
                                   "float64 value \(d) is beyond float32's range (±\(Float.greatestFiniteMagnitude)); WeakSpot computes in float32: rescale the data")
                }
                throw notExact("float64", "\(d)", i, firstItem)
            }
            return result
        case .int64(let v):
            return try v.enumerated().map { (i, x) throws(NPYError) -> Float in
                guard let f = Float(exactly: x) else { throw notExact("int64", "\(x)", i, firstItem) }
                return f
            }
        case .int32(let v):
            return try v.enumerated().map { (i, x) throws(NPYError) -> Float in
                guard let f = Float(exactly: x) else { throw notExact("int32", "\(x)", i, firstItem) }
                return f
            }
        }
    }

    private func notExact(_ dtype: String, _ value: String, _ flat: Int, _ firstItem: Int) -> NPYError {
        NPYError(.unsupported, at: "data\(index(flat, firstItem))",
                 "\(dtype) value \(value) is not exactly a float32 value, and WeakSpot computes in float32 without rounding input silently; save the data as float32: np.save(path, x.astype(np.float32))")
    }

    /// The numpy index `[i, j, ...]` of flat element `flat`, counting items from `firstItem`.
    private func index(_ flat: Int, _ firstItem: Int) -> String {
        var rest = flat
        var parts = [Int](repeating: 0, count: shape.count)
        for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] > 0 {
            parts[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        if !parts.isEmpty { parts[0] += firstItem }
        return "[" + parts.map(String.init).joined(separator: ", ") + "]"
    }
}
