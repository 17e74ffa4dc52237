/// Evaluates, at import time, the operators that exporters use for shape arithmetic and constant
/// preparation, on values known before any input arrives.
enum ConstantFolding {
    static let foldable: Set<String> = [
        "Shape", "Gather", "Slice", "Cast", "Unsqueeze", "Squeeze", "Concat", "Reshape", "Identity",
        "Add", "Sub", "Mul", "Div", "ConstantOfShape", "Transpose", "Flatten", "Neg", "Floor", "Ceil",
        "Sqrt", "Range", "Equal", "Where", "Max", "Min", "Size", "Less", "Greater",
    ]

    /// The result of `opType` on constant `inputs` (nil entries are omitted optional inputs).
    static func evaluate(_ opType: String, _ inputs: [ConstantValue?], _ attributes: AttributeReader, opset: Int, maxElements: Int) throws(GraphError) -> ConstantValue {
        func input(_ i: Int) throws(GraphError) -> ConstantValue {
            guard i < inputs.count, let v = inputs[i] else { throw GraphError(.structure, "missing input \(i)") }
            return v
        }
        switch opType {
        case "Identity":
            return try input(0)
        case "Cast":
            let x = try input(0)
            let to = try attributes.int("to") ?? 1
            let isFloat = [1, 10, 11, 16].contains(to)
            return ConstantValue(kind: isFloat ? .float : .integer, shape: x.shape,
                                 elements: isFloat ? x.elements.map { Double(Float($0)) } : x.elements.map { $0.rounded(.towardZero) })
        case "Neg": let x = try input(0); return ConstantValue(kind: x.kind, shape: x.shape, elements: x.elements.map { -$0 })
        case "Floor": let x = try input(0); return ConstantValue(kind: x.kind, shape: x.shape, elements: x.elements.map { $0.rounded(.down) })
        case "Ceil": let x = try input(0); return ConstantValue(kind: x.kind, shape: x.shape, elements: x.elements.map { $0.rounded(.up) })
        case "Sqrt": let x = try input(0); return ConstantValue(kind: x.kind, shape: x.shape, elements: x.elements.map { $0.squareRoot() })
        case _ where (opType == "Max" || opType == "Min") && inputs.count != 2:
            // Variadic: every operand (1…N), folded left to right as the runtime kernel does.
            var result = try input(0)
            for i in 1..<inputs.count {
                let b = try input(i)
                result = try broadcast(result, b, kind: result.kind) { opType == "Max" ? max($0, $1) : min($0, $1) }
            }
            return result
        case "Add", "Sub", "Mul", "Div", "Max", "Min", "Equal", "Less", "Greater":
            let a = try input(0), b = try input(1)
            let integer = a.kind == .integer && b.kind == .integer
            return try broadcast(a, b, kind: ["Equal", "Less", "Greater"].contains(opType) ? .integer : a.kind) { x, y in
                switch opType {
                case "Add": return x + y
                case "Sub": return x - y
                case "Mul": return x * y
                case "Max": return max(x, y)
                case "Min": return min(x, y)
                case "Equal": return x == y ? 1 : 0
                case "Less": return x < y ? 1 : 0
                case "Greater": return x > y ? 1 : 0
                default:
                    if integer { return y == 0 ? 0 : (x / y).rounded(.towardZero) }
                    return x / y
                }
            }
        case "Where":
            let c = try input(0), a = try input(1), b = try input(2)
            let shape = try broadcastShapes(broadcastShapes(c.shape, a.shape), b.shape)
            let sc = broadcastStrides(c.shape, rank: shape.count), sa = broadcastStrides(a.shape, rank: shape.count), sb = broadcastStrides(b.shape, rank: shape.count)
            var out = [Double]()
            var index = [Int](repeating: 0, count: shape.count)
            for _ in 0..<shape.reduce(1, *) {
                var ic = 0, ia = 0, ib = 0
                for k in 0..<shape.count { ic += index[k] * sc[k]; ia += index[k] * sa[k]; ib += index[k] * sb[k] }
                out.append(c.elements[ic] != 0 ? a.elements[ia] : b.elements[ib])
                var k = shape.count - 1
                while k >= 0 { index[k] += 1; if index[k] < shape[k] { break }; index[k] = 0; k -= 1 }
            }
            return ConstantValue(kind: a.kind, shape: shape, elements: out)
        case "Size":
            return ConstantValue(kind: .integer, shape: [], elements: [Double(try input(0).count)])
        case "ConstantOfShape":
            let shape = try fillShape(try input(0), maxElements: maxElements)
            let fill = try fillValue(attributes)
            return ConstantValue(kind: fill.kind, shape: shape, elements: [Double](repeating: fill.value, count: shape.reduce(1, *)))
        case "Range":
            let start = try input(0).scalar("start"), limit = try input(1).scalar("limit"), delta = try input(2).scalar("delta")
            guard delta != 0 else { throw GraphError(.attribute, "Range delta is 0") }
            let steps = ((limit - start) / delta).rounded(.up)
            guard steps.isFinite, steps <= Double(maxElements) else {
                throw GraphError(.attribute, "Range from \(start) to \(limit) by \(delta) makes more than the limit \(maxElements) elements (raise with --max-tensor-elements)")
            }
            let n = max(0, Int(steps))
            guard n <= maxElements else { throw GraphError(.attribute, "Range of \(n) elements is more than the limit \(maxElements) (raise with --max-tensor-elements)") }
            return ConstantValue(kind: try input(0).kind, shape: [n], elements: (0..<n).map { start + Double($0) * delta })
        case "Shape":
            let x = try input(0)
            return ConstantValue(integers: try sliceOfShape(x.shape, attributes))
        case "Gather":
            let data = try input(0), indices = try input(1)
            var axis = try attributes.int("axis") ?? 0
            if axis < 0 { axis += data.shape.count }
            guard axis >= 0, axis < data.shape.count else { throw GraphError(.attribute, "Gather axis out of range") }
            let dim = data.shape[axis]
            let idx = try indices.integers("indices").map { $0 < 0 ? $0 + dim : $0 }
            guard idx.allSatisfy({ $0 >= 0 && $0 < dim }) else { throw GraphError(.attribute, "Gather index out of range for size \(dim)") }
            let outer = data.shape[..<axis].reduce(1, *), inner = data.shape[(axis + 1)...].reduce(1, *)
            var out = [Double]()
            for o in 0..<outer { for i in idx { out += data.elements[(o * dim + i) * inner ..< (o * dim + i + 1) * inner] } }
            return ConstantValue(kind: data.kind, shape: Array(data.shape[..<axis]) + indices.shape + Array(data.shape[(axis + 1)...]), elements: out)
        case "Unsqueeze", "Squeeze":
            let x = try input(0)
            var axes: [Int]
            if opset >= 13 { axes = inputs.count > 1 && inputs[1] != nil ? try input(1).integers("axes") : [] } else { axes = try attributes.ints("axes") ?? [] }
            if opType == "Unsqueeze" {
                let rank = x.shape.count + axes.count
                axes = axes.map { $0 < 0 ? $0 + rank : $0 }
                var shape = [Int](), it = x.shape.makeIterator()
                for i in 0..<rank { shape.append(axes.contains(i) ? 1 : (it.next() ?? 1)) }
                return ConstantValue(kind: x.kind, shape: shape, elements: x.elements)
            } else {
                axes = axes.map { $0 < 0 ? $0 + x.shape.count : $0 }
                let shape = axes.isEmpty ? x.shape.filter { $0 != 1 } : x.shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
                return ConstantValue(kind: x.kind, shape: shape, elements: x.elements)
            }
        case "Concat":
            let parts = inputs.compactMap { $0 }
            guard let first = parts.first else { throw GraphError(.structure, "Concat without inputs") }
            var axis = try attributes.int("axis") ?? 0
            if axis < 0 { axis += first.shape.count }
            guard axis >= 0, axis < max(first.shape.count, 1) else { throw GraphError(.attribute, "Concat axis out of range") }
            if first.shape.count <= 1 {
                return ConstantValue(kind: first.kind, shape: [parts.reduce(0) { $0 + $1.count }], elements: parts.flatMap(\.elements))
            }
            let outer = first.shape[..<axis].reduce(1, *)
            var out = [Double](), shape = first.shape
            shape[axis] = 0
            for p in parts {
                guard p.shape.count == first.shape.count else { throw GraphError(.shape, "Concat rank mismatch") }
                shape[axis] += p.shape[axis]
            }
            for o in 0..<outer {
                for p in parts {
                    let block = p.shape[axis...].reduce(1, *)
                    out += p.elements[o * block ..< (o + 1) * block]
                }
            }
            return ConstantValue(kind: first.kind, shape: shape, elements: out)
        case "Reshape", "Flatten":
            let x = try input(0)
            var target: [Int]
            if opType == "Flatten" {
                var axis = try attributes.int("axis") ?? 1
                if axis < 0 { axis += x.shape.count }
                target = [x.shape[..<axis].reduce(1, *), x.shape[axis...].reduce(1, *)]
            } else {
                let raw = try input(1).integers("shape")
                let template = ShapeTemplate(raw.map { $0 == 0 ? .copyInput : ($0 == -1 ? .infer : .fixed($0)) })
                target = try template.resolve(inputShape: x.shape, batch: 1)
            }
            return ConstantValue(kind: x.kind, shape: target, elements: x.elements)
        case "Transpose":
            let x = try input(0)
            let perm = try attributes.ints("perm") ?? Array((0..<x.shape.count).reversed())
            guard perm.count == x.shape.count, Set(perm) == Set(0..<x.shape.count) else { throw GraphError(.attribute, "bad perm \(perm)") }
            let shape = perm.map { x.shape[$0] }
            let inStrides = broadcastStrides(x.shape, rank: x.shape.count)
            var out = [Double](repeating: 0, count: x.count)
            var index = [Int](repeating: 0, count: shape.count)
            for o in 0..<x.count {
                var src = 0
                for (k, p) in perm.enumerated() { src += index[k] * inStrides[p] }
                out[o] = x.elements[src]
                var k = shape.count - 1
                while k >= 0 { index[k] += 1; if index[k] < shape[k] { break }; index[k] = 0; k -= 1 }
            }
            return ConstantValue(kind: x.kind, shape: shape, elements: out)
        case "Slice":
            let x = try input(0)
            let starts = try input(1).clampedIntegers(), ends = try input(2).clampedIntegers()
            let axes = inputs.count > 3 && inputs[3] != nil ? try input(3).integers("axes") : Array(0..<starts.count)
            let steps = inputs.count > 4 && inputs[4] != nil ? try input(4).integers("steps") : [Int](repeating: 1, count: starts.count)
            let attrs = try Importer.sliceAttributes(starts: starts, ends: ends, axes: axes, steps: steps, rank: x.shape.count)
            return sliced(x, attrs)
        default:
            throw GraphError(.unsupportedOperator, "\(opType) cannot be folded")
        }
    }

    static func sliceOfShape(_ shape: [Int], _ attributes: AttributeReader) throws(GraphError) -> [Int] {
        let rank = shape.count
        var start = try attributes.int("start") ?? 0
        var end = try attributes.int("end") ?? rank
        if start < 0 { start += rank }
        if end < 0 { end += rank }
        start = min(max(start, 0), rank)
        end = min(max(end, start), rank)
        return Array(shape[start..<end])
    }

    static func sliced(_ x: ConstantValue, _ s: SliceAttributes) -> ConstantValue {
        var shape = x.shape
        let resolved = s.resolve(shape: x.shape)
        var starts = [Int](repeating: 0, count: shape.count), steps = [Int](repeating: 1, count: shape.count)
        for r in resolved { shape[r.axis] = r.count; starts[r.axis] = r.start; steps[r.axis] = r.step }
        let inStrides = broadcastStrides(x.shape, rank: x.shape.count)
        let total = shape.reduce(1, *)
        var out = [Double]()
        out.reserveCapacity(total)
        var index = [Int](repeating: 0, count: shape.count)
        for _ in 0..<total {
            var src = 0
            for k in 0..<shape.count { src += (starts[k] + index[k] * steps[k]) * inStrides[k] }
            out.append(x.elements[src])
            var k = shape.count - 1
            while k >= 0 { index[k] += 1; if index[k] < shape[k] { break }; index[k] = 0; k -= 1 }
        }
        return ConstantValue(kind: x.kind, shape: shape, elements: out)
    }


    static func checkedProduct(_ dims: [Int]) -> Int? {
        var p = 1
        for d in dims {
            let (r, o) = p.multipliedReportingOverflow(by: d)
            if o { return nil }
            p = r
        }
        return p
    }

    /// Element-wise `f` with numpy broadcasting.
    static func broadcast(_ a: ConstantValue, _ b: ConstantValue, kind: ConstantValue.ElementKind, _ f: (Double, Double) -> Double) throws(GraphError) -> ConstantValue {
        let shape = try broadcastShapes(a.shape, b.shape)
        let total = shape.reduce(1, *)
        let sa = broadcastStrides(a.shape, rank: shape.count), sb = broadcastStrides(b.shape, rank: shape.count)
        var out = [Double](repeating: 0, count: total)
        var index = [Int](repeating: 0, count: shape.count)
        for o in 0..<total {
            var ia = 0, ib = 0
            for k in 0..<shape.count { ia += index[k] * sa[k]; ib += index[k] * sb[k] }
            out[o] = f(a.elements[ia], b.elements[ib])
            var k = shape.count - 1
            while k >= 0 { index[k] += 1; if index[k] < shape[k] { break }; index[k] = 0; k -= 1 }
        }
        return ConstantValue(kind: kind, shape: shape, elements: out)
    }

}
