/// A tensor known at import time: a weight, or a step of the shape arithmetic exporters emit
/// (`Shape → Gather → Unsqueeze → Concat → Reshape`). Integers and floats share one storage in
/// Double, which holds every int64 an ONNX shape can contain exactly (|v| < 2^53).
struct ConstantValue: Equatable {
    enum ElementKind: Equatable { case float, integer }
    var kind: ElementKind
    var shape: [Int]
    var elements: [Double]

    init(kind: ElementKind, shape: [Int], elements: [Double]) {
        self.kind = kind
        self.shape = shape
        self.elements = elements
    }

    init(integers: [Int], shape: [Int]? = nil) {
        self.init(kind: .integer, shape: shape ?? [integers.count], elements: integers.map(Double.init))
    }

    init(tensor: Tensor) {
        self.init(kind: .float, shape: tensor.shape, elements: tensor.storage.map(Double.init))
    }

    var count: Int { elements.count }

    var tensor: Tensor { Tensor(shape: shape, storage: elements.map { Float($0) }) }

    /// The elements as integers, or an error naming `what` when they are not whole numbers.
    func integers(_ what: String) throws(GraphError) -> [Int] {
        var result = [Int]()
        result.reserveCapacity(elements.count)
        for e in elements {
            guard e.isFinite, e == e.rounded(), abs(e) < 9.0e15 else {
                throw GraphError(.attribute, "\(what) must hold integers, got \(e)")
            }
            result.append(Int(e))
        }
        return result
    }

    /// The elements as integers clamped to ±2^40: Slice bounds use INT64_MAX/MIN for "to the end".
    func clampedIntegers() -> [Int] {
        elements.map { e in e.isNaN ? 0 : Int(max(min(e, 1.0e12), -1.0e12)) }
    }

    func scalar(_ what: String) throws(GraphError) -> Double {
        guard elements.count == 1 else { throw GraphError(.attribute, "\(what) must be a scalar, got shape \(shape)") }
        return elements[0]
    }
}
