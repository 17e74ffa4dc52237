import NetworkIR

/// Data movement: the gradient moves back along the same index map as the forward copy.
enum ShapeBackward {
    static func inverse(_ permutation: [Int]) -> [Int] {
        var result = [Int](repeating: 0, count: permutation.count)
        for (i, p) in permutation.enumerated() { result[p] = i }
        return result
    }

    static func transpose(_ x: Tensor, permutation: [Int]) -> Tensor {
        let shape = permutation.map { x.shape[$0] }
        let strides = broadcastStrides(x.shape, rank: x.rank)
        let source = permutation.map { x.shape[$0] == 1 ? 0 : strides[$0] }
        var out = [Float](repeating: 0, count: x.count)
        var index = [Int](repeating: 0, count: shape.count)
        for o in 0..<x.count {
            var s = 0
            for k in 0..<shape.count { s += index[k] * source[k] }
            out[o] = x.storage[s]
            var k = shape.count - 1
            while k >= 0 { index[k] += 1; if index[k] < shape[k] { break }; index[k] = 0; k -= 1 }
        }
        return Tensor(shape: shape, storage: out)
    }

    static func split(_ g: Tensor, axis: Int, shapes: [[Int]]) -> [Tensor?] {
        let outer = g.shape[..<axis].reduce(1, *)
        let outBlock = g.shape[axis...].reduce(1, *)
        var offset = 0
        return shapes.map { shape in
            let block = shape[axis...].reduce(1, *)
            var part = [Float](repeating: 0, count: outer * block)
            for o in 0..<outer {
                for i in 0..<block { part[o * block + i] = g.storage[o * outBlock + offset + i] }
            }
            offset += block
            return Tensor(shape: shape, storage: part)
        }
    }

    /// Every output cell adds its gradient to the input cell it was copied from (reflect and edge
    /// modes read some cells several times; constant padding reads none).
    static func pad(_ g: Tensor, pads: [Int], mode: PadMode, inputShape: [Int]) -> Tensor {
        let rank = inputShape.count
        let strides = broadcastStrides(inputShape, rank: rank)
        var dx = [Float](repeating: 0, count: inputShape.reduce(1, *))
        var index = [Int](repeating: 0, count: rank)
        for o in 0..<g.count {
            var s = 0, inside = true
            for k in 0..<rank {
                let n = inputShape[k]
                guard let i = mode.sourceIndex(index[k] - pads[k], size: n) else { inside = false; break }
                s += i * (n == 1 ? 0 : strides[k])
            }
            if inside { dx[s] += g.storage[o] }
            var k = rank - 1
            while k >= 0 { index[k] += 1; if index[k] < g.shape[k] { break }; index[k] = 0; k -= 1 }
        }
        return Tensor(shape: inputShape, storage: dx)
    }

    static func slice(_ g: Tensor, attributes: SliceAttributes, inputShape: [Int]) -> Tensor {
        let rank = inputShape.count
        var starts = [Int](repeating: 0, count: rank), steps = [Int](repeating: 1, count: rank)
        for r in attributes.resolve(shape: inputShape) { starts[r.axis] = r.start; steps[r.axis] = r.step }
        let strides = broadcastStrides(inputShape, rank: rank)
        var dx = [Float](repeating: 0, count: inputShape.reduce(1, *))
        var index = [Int](repeating: 0, count: rank)
        for o in 0..<g.count {
            var s = 0
            for k in 0..<rank { s += (starts[k] + index[k] * steps[k]) * (inputShape[k] == 1 ? 0 : strides[k]) }
            dx[s] += g.storage[o]
            var k = rank - 1
            while k >= 0 { index[k] += 1; if index[k] < g.shape[k] { break }; index[k] = 0; k -= 1 }
        }
        return Tensor(shape: inputShape, storage: dx)
    }
}
