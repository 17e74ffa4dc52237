/// Output shapes of every operator, computed from concrete input shapes. The executor uses the
/// same rules at run time, so a graph that passes shape inference at one batch size runs at any.
extension Operator {
    /// The output shape for inputs of `shapes` (constants included) at runtime batch `batch`.
    /// Throws when the inputs do not fit the operator.
    public func outputShape(_ shapes: [[Int]], batch: Int) throws(GraphError) -> [Int] {
        func need(_ count: Int) throws(GraphError) {
            guard shapes.count >= count else {
                throw GraphError(.structure, "expected \(count) inputs, got \(shapes.count)")
            }
        }
        try need(1)
        let x = shapes[0]
        switch self {
        case .conv(let a):
            try need(2)
            let w = shapes[1]
            guard x.count == 4, w.count == 4 else {
                throw GraphError(.shape, "Conv supports 2-D images only: input \(x), weight \(w)")
            }
            guard a.groups > 0, x[1] % a.groups == 0, w[0] % a.groups == 0, w[1] * a.groups == x[1] else {
                throw GraphError(.shape, "input channels \(x[1]) do not match weight \(w) with group \(a.groups)")
            }
            guard w[2] == a.kernel[0], w[3] == a.kernel[1] else {
                throw GraphError(.shape, "kernel_shape \(a.kernel) does not match weight \(w)")
            }
            if shapes.count > 2 && shapes[2] != [w[0]] {
                throw GraphError(.shape, "bias shape \(shapes[2]) does not match \(w[0]) output channels")
            }
            let out = a.outputSize(inputHeight: x[2], inputWidth: x[3])
            guard out.height > 0, out.width > 0 else {
                throw GraphError(.shape, "input \(x[2])x\(x[3]) is smaller than the kernel")
            }
            return [x[0], w[0], out.height, out.width]
        case .batchNormalization:
            try need(5)
            guard x.count >= 2 else { throw GraphError(.shape, "input \(x) has no channel axis") }
            for s in shapes[1...4] where s != [x[1]] {
                throw GraphError(.shape, "parameter shape \(s) does not match \(x[1]) channels")
            }
            return x
        case .relu, .leakyRelu, .clip, .sigmoid, .hardSigmoid, .hardSwish, .tanh, .fakeQuantize:
            return x
        case .add, .sub, .mul, .div:
            try need(2)
            return try broadcastShapes(x, shapes[1])
        case .maxPool(let a), .averagePool(let a, _):
            guard x.count == 4 else { throw GraphError(.shape, "pooling supports 2-D images only: input \(x)") }
            let out = a.outputSize(inputHeight: x[2], inputWidth: x[3])
            guard out.height > 0, out.width > 0 else {
                throw GraphError(.shape, "input \(x[2])x\(x[3]) is smaller than the window")
            }
            return [x[0], x[1], out.height, out.width]
        case .globalAveragePool:
            guard x.count >= 3 else { throw GraphError(.shape, "input \(x) has no spatial axes") }
            return [x[0], x[1]] + [Int](repeating: 1, count: x.count - 2)
        case .reduceMean(let axes, let keepDims):
            guard axes.allSatisfy({ $0 < x.count }) else { throw GraphError(.shape, "axes \(axes) out of range for rank \(x.count)") }
            if axes.isEmpty { return keepDims ? x.map { _ in 1 } : [] }
            var out = [Int]()
            for (i, d) in x.enumerated() {
                if axes.contains(i) { if keepDims { out.append(1) } } else { out.append(d) }
            }
            return out
        case .flatten(let axis):
            guard axis <= x.count else { throw GraphError(.shape, "axis \(axis) out of range for rank \(x.count)") }
            return [x[..<axis].reduce(1, *), x[axis...].reduce(1, *)]
        case .reshape(let template):
            return try template.resolve(inputShape: x, batch: batch)
        case .transpose(let perm):
            guard perm.count == x.count, Set(perm) == Set(0..<x.count) else {
                throw GraphError(.shape, "perm \(perm) is not a permutation of rank \(x.count)")
            }
            return perm.map { x[$0] }
        case .squeeze(let axes):
            var out = [Int]()
            for (i, d) in x.enumerated() {
                if axes.contains(i) {
                    guard d == 1 else { throw GraphError(.shape, "cannot squeeze axis \(i) of size \(d)") }
                } else { out.append(d) }
            }
            return out
        case .unsqueeze(let axes):
            let rank = x.count + axes.count
            guard axes.allSatisfy({ $0 < rank }) else { throw GraphError(.shape, "axes \(axes) out of range") }
            var out = [Int](), it = x.makeIterator()
            for i in 0..<rank { out.append(axes.contains(i) ? 1 : (it.next() ?? 1)) }
            return out
        case .concat(let axis):
            guard axis < x.count else { throw GraphError(.shape, "axis \(axis) out of range for rank \(x.count)") }
            var out = x
            for s in shapes.dropFirst() {
                guard s.count == x.count, zip(s, x).enumerated().allSatisfy({ $0.offset == axis || $0.element.0 == $0.element.1 }) else {
                    throw GraphError(.shape, "cannot concatenate \(s) with \(x) on axis \(axis)")
                }
                out[axis] += s[axis]
            }
            return out
        case .pad(let pads, _, _):
            guard pads.count == 2 * x.count else { throw GraphError(.shape, "pads has \(pads.count) values for rank \(x.count)") }
            let out = (0..<x.count).map { x[$0] + pads[$0] + pads[$0 + x.count] }
            guard out.allSatisfy({ $0 >= 0 }) else { throw GraphError(.shape, "negative padded size \(out)") }
            return out
        case .gemm(_, _, let transA, let transB):
            try need(2)
            let b = shapes[1]
            guard x.count == 2, b.count == 2 else { throw GraphError(.shape, "Gemm needs 2-D operands, got \(x) and \(b)") }
            let m = transA ? x[1] : x[0], k = transA ? x[0] : x[1]
            let kb = transB ? b[1] : b[0], n = transB ? b[0] : b[1]
            guard k == kb else { throw GraphError(.shape, "inner dimensions differ: \(x) and \(b)") }
            if shapes.count > 2 { _ = try broadcastShapes([m, n], shapes[2]) }
            return [m, n]
        case .matMul:
            try need(2)
            var a = x, b = shapes[1]
            guard !a.isEmpty, !b.isEmpty else { throw GraphError(.shape, "MatMul of a scalar") }
            let aVector = a.count == 1, bVector = b.count == 1
            if aVector { a = [1] + a }
            if bVector { b = b + [1] }
            guard a[a.count - 1] == b[b.count - 2] else { throw GraphError(.shape, "inner dimensions differ: \(x) and \(shapes[1])") }
            var out = try broadcastShapes(Array(a.dropLast(2)), Array(b.dropLast(2)))
            if !aVector { out.append(a[a.count - 2]) }
            if !bVector { out.append(b[b.count - 1]) }
            return out
        case .softmax(let axis):
            guard axis < x.count else { throw GraphError(.shape, "axis \(axis) out of range for rank \(x.count)") }
            return x
        case .slice(let s):
            guard s.axes.allSatisfy({ $0 < x.count }) else { throw GraphError(.shape, "axes \(s.axes) out of range for rank \(x.count)") }
            var out = x
            for r in s.resolve(shape: x) { out[r.axis] = r.count }
            return out
        case .unary, .prelu, .pow, .variadic, .softmaxFamily: return try elementwiseOutputShape(shapes)
        case .lrn, .instanceNormalization, .resize, .convTranspose, .reduceSum, .reduceMax, .expand, .tile, .whereSelect, .compare, .gather:
            return try structuralOutputShape(shapes, batch: batch)
        }
    }
}

/// Element strides of a row-major `shape` aligned right to `rank` axes, 0 along axes of size 1
/// and the missing leading ones: the strides that read it broadcast to a `rank`-axis shape (and,
/// at its own rank, its plain strides wherever an index can be non-zero).
public func broadcastStrides(_ shape: [Int], rank: Int) -> [Int] {
    var result = [Int](repeating: 0, count: rank)
    var accumulated = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        result[rank - shape.count + i] = shape[i] == 1 ? 0 : accumulated
        accumulated *= shape[i]
    }
    return result
}

/// Numpy broadcasting of two shapes.
public func broadcastShapes(_ a: [Int], _ b: [Int]) throws(GraphError) -> [Int] {
    let rank = max(a.count, b.count)
    var out = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else {
            throw GraphError(.shape, "shapes \(a) and \(b) do not broadcast")
        }
    }
    return out
}

extension Graph {
    /// The shape of every value for a batch of `batch` samples (nil for values no node reads or
    /// writes). Throws the first node whose inputs do not fit.
    public func inferShapes(batch: Int) throws(GraphError) -> [[Int]?] {
        var shapes = [[Int]?](repeating: nil, count: values.count)
        for input in inputs { shapes[input.value] = input.shape(batch: batch) }
        for (id, t) in constants { shapes[id] = t.shape }
        for node in nodes {
            var ins = [[Int]]()
            for v in node.inputs {
                guard let s = shapes[v] else {
                    throw GraphError(.structure, "input '\(values[v].name)' is used before it is produced", node: node.name)
                }
                ins.append(s)
            }
            do {
                let out = try node.op.outputShape(ins, batch: batch)
                shapes[node.outputs[0]] = out
            } catch {
                throw error.at("\(node.name) (\(node.op.onnxName))")
            }
        }
        return shapes
    }
}
