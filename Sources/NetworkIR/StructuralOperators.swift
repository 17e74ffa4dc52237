/// Attributes of the structural, normalization and resampling operators (LRN, Resize/Upsample,
/// ConvTranspose, element comparisons), and their output-shape rules. Kept apart from
/// Operator.swift so that each family of operators lives in its own file.

/// ONNX `LRN` across channels: y = x / (bias + alpha/size · Σ x²)^beta, the sum over the `size`
/// channels centred on c (floor((size−1)/2) before, ceil((size−1)/2) after), clipped at the ends.
public struct LRNAttributes: Sendable, Equatable {
    public var size: Int
    public var alpha: Float
    public var beta: Float
    public var bias: Float

    public init(size: Int, alpha: Float, beta: Float, bias: Float) {
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.bias = bias
    }

    /// The first and last channel (inclusive) summed for channel `c` of `channels`.
    @inline(__always)
    public func window(_ c: Int, channels: Int) -> (first: Int, last: Int) {
        (max(0, c - (size - 1) / 2), min(channels - 1, c + (size - 1 + 1) / 2))
    }
}

/// ONNX `Resize` / `Upsample` on the two spatial axes of an NCHW tensor. The importer refuses
/// scaling of the batch or channel axes, so the output keeps N and C.
public struct ResizeAttributes: Sendable, Equatable {
    public enum Mode: String, Sendable { case nearest, linear }
    /// How an output coordinate maps back to an input coordinate (ONNX names).
    public enum CoordinateTransform: String, Sendable {
        case halfPixel = "half_pixel", pytorchHalfPixel = "pytorch_half_pixel", alignCorners = "align_corners"
        case asymmetric, halfPixelSymmetric = "half_pixel_symmetric"
        /// TensorFlow 1's nearest resize with half-pixel centres (tf2onnx, opsets 11–17).
        case tfHalfPixelForNN = "tf_half_pixel_for_nn"
    }
    /// How `nearest` rounds a fractional input coordinate; `simple` is ONNX Runtime's rule for
    /// Upsample and Resize before opset 11 (floor when enlarging, ceil when shrinking).
    public enum NearestMode: String, Sendable {
        case roundPreferFloor = "round_prefer_floor", roundPreferCeil = "round_prefer_ceil", floor, ceil, simple
    }

    public var mode: Mode
    public var transform: CoordinateTransform
    public var nearestMode: NearestMode
    /// Scales of H and W, used for the output size when `sizes` is nil, and for the coordinate
    /// mapping always (ONNX maps with the given scale, not the size ratio).
    public var scales: [Float]?
    /// Output H and W when the model gives sizes.
    public var sizes: [Int]?

    public init(mode: Mode, transform: CoordinateTransform, nearestMode: NearestMode, scales: [Float]?, sizes: [Int]?) {
        self.mode = mode
        self.transform = transform
        self.nearestMode = nearestMode
        self.scales = scales
        self.sizes = sizes
    }

    /// Output (H, W) for an input of (H, W): floor(in·scale) when scales are given.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        if let sizes { return (sizes[0], sizes[1]) }
        let s = scales ?? [1, 1]
        return (Int((Float(height) * s[0]).rounded(.down)), Int((Float(width) * s[1]).rounded(.down)))
    }

    /// The scale used by the coordinate mapping on spatial axis `axis` (0 = H, 1 = W).
    public func mappingScale(axis: Int, input: Int, output: Int) -> Float {
        if sizes == nil, let scales { return scales[axis] }
        return Float(output) / Float(input)
    }

    /// The input coordinate (before rounding or clamping) that output index `x` reads, in float32
    /// as ONNX Runtime computes it.
    @inline(__always)
    public func sourceCoordinate(_ x: Int, scale: Float, input: Int, output: Int) -> Float {
        let xf = Float(x)
        switch transform {
        case .asymmetric: return xf / scale
        case .halfPixel: return (xf + 0.5) / scale - 0.5
        case .tfHalfPixelForNN: return (xf + 0.5) / scale
        case .pytorchHalfPixel: return output > 1 ? (xf + 0.5) / scale - 0.5 : 0
        case .alignCorners: return output == 1 ? 0 : xf * Float(input - 1) / Float(output - 1)
        case .halfPixelSymmetric:
            let adjustment = Float(output) / (scale * Float(input))
            let offset = Float(input) * (1 - adjustment) / 2
            return offset + (xf + 0.5) / scale - 0.5
        }
    }

    /// The input index `nearest` reads for output index `x`, clamped into the input.
    @inline(__always)
    public func nearestIndex(_ x: Int, scale: Float, input: Int, output: Int) -> Int {
        let c = sourceCoordinate(x, scale: scale, input: input, output: output)
        let r: Float
        switch nearestMode {
        case .roundPreferFloor: r = c == c.rounded(.down) + 0.5 ? c.rounded(.down) : c.rounded(.toNearestOrAwayFromZero)
        case .roundPreferCeil: r = c.rounded(.toNearestOrAwayFromZero)
        case .floor: r = c.rounded(.down)
        case .ceil: r = c.rounded(.up)
        case .simple: r = scale < 1 ? c.rounded(.up) : Float(Int(c))
        }
        return min(max(Int(r), 0), input - 1)
    }

    /// The two input indices and their weights that `linear` blends for output index `x`
    /// (ONNX Runtime's rule: the coordinate clamped into [0, input−1]).
    @inline(__always)
    public func linearTaps(_ x: Int, scale: Float, input: Int, output: Int) -> (low: Int, high: Int, lowWeight: Float, highWeight: Float) {
        var c = sourceCoordinate(x, scale: scale, input: input, output: output)
        c = max(0, min(c, Float(input - 1)))
        let low = min(Int(c), input - 1)
        let high = min(low + 1, input - 1)
        if low == high { return (low, high, 0.5, 0.5) }
        let highWeight = c - Float(low)
        return (low, high, Float(high) - c, highWeight)
    }
}

/// ONNX `ConvTranspose` (2-D), weight (Cin, Cout/groups, kh, kw).
public struct ConvTransposeAttributes: Sendable, Equatable {
    public var kernel: [Int]
    public var strides: [Int]
    public var dilations: [Int]
    /// [top, left, bottom, right] when `autoPad` is NOTSET.
    public var pads: [Int]
    public var outputPadding: [Int]
    public var autoPad: AutoPad
    public var groups: Int

    public init(kernel: [Int], strides: [Int], dilations: [Int], pads: [Int], outputPadding: [Int], autoPad: AutoPad, groups: Int) {
        self.kernel = kernel
        self.strides = strides
        self.dilations = dilations
        self.pads = pads
        self.outputPadding = outputPadding
        self.autoPad = autoPad
        self.groups = groups
    }

    /// Resolved [top, left, bottom, right] for an input of (H, W). With SAME_UPPER/SAME_LOWER the
    /// output is input·stride and the total padding is split as ONNX Runtime does (the odd cell
    /// at the start for SAME_UPPER).
    public func resolvedPads(inputHeight: Int, inputWidth: Int) -> [Int] {
        switch autoPad {
        case .notSet: return pads
        case .valid: return [0, 0, 0, 0]
        case .sameUpper, .sameLower:
            var result = [0, 0, 0, 0]
            for (axis, size) in [inputHeight, inputWidth].enumerated() {
                let full = (size - 1) * strides[axis] + outputPadding[axis] + (kernel[axis] - 1) * dilations[axis] + 1
                let total = max(0, full - size * strides[axis])
                let small = total / 2, large = total - small
                result[axis] = autoPad == .sameUpper ? large : small
                result[axis + 2] = autoPad == .sameUpper ? small : large
            }
            return result
        }
    }

    public func outputSize(inputHeight: Int, inputWidth: Int) -> (height: Int, width: Int) {
        let p = resolvedPads(inputHeight: inputHeight, inputWidth: inputWidth)
        var out = [0, 0]
        for (axis, size) in [inputHeight, inputWidth].enumerated() {
            out[axis] = (size - 1) * strides[axis] + outputPadding[axis] + (kernel[axis] - 1) * dilations[axis] + 1 - p[axis] - p[axis + 2]
        }
        return (out[0], out[1])
    }
}

/// ONNX `Gather` of an activation along a non-batch axis with constant indices: output
/// [i₀…i_{a−1}, j…, i_{a+1}…] = input [i₀…i_{a−1}, indices[j…], i_{a+1}…]. Indices are stored
/// flat (row-major over `indicesShape`) and already non-negative; a rank-0 `indicesShape`
/// (one index) drops the axis.
public struct GatherAttributes: Sendable, Equatable {
    public var axis: Int
    public var indices: [Int]
    public var indicesShape: [Int]

    public init(axis: Int, indices: [Int], indicesShape: [Int]) {
        self.axis = axis
        self.indices = indices
        self.indicesShape = indicesShape
    }
}

/// Element comparisons on activations; the result is 1 where true and 0 where false (WeakSpot
/// computes in float32, and `Where` reads any non-zero condition as true).
public enum ComparisonKind: String, Sendable, Equatable {
    case equal = "Equal", less = "Less", greater = "Greater"

    @inline(__always)
    public func holds(_ a: Float, _ b: Float) -> Bool {
        switch self {
        case .equal: a == b
        case .less: a < b
        case .greater: a > b
        }
    }
}

extension Operator {
    /// Output shapes of the structural operators (called from `outputShape`).
    func structuralOutputShape(_ shapes: [[Int]], batch: Int) throws(GraphError) -> [Int] {
        let x = shapes[0]
        let out: [Int]
        switch self {
        case .lrn:
            guard x.count >= 2 else { throw GraphError(.shape, "LRN needs a channel axis, got \(x)") }
            out = x
        case .instanceNormalization:
            guard shapes.count == 3, x.count >= 3 else { throw GraphError(.shape, "InstanceNormalization needs (N,C,...) data, scale and bias, got \(shapes)") }
            guard shapes[1] == [x[1]], shapes[2] == [x[1]] else {
                throw GraphError(.shape, "scale \(shapes[1]) and bias \(shapes[2]) do not match \(x[1]) channels")
            }
            out = x
        case .resize(let a):
            guard x.count == 4 else { throw GraphError(.shape, "Resize supports NCHW (rank 4) only, got \(x)") }
            let size = a.outputSize(height: x[2], width: x[3])
            guard size.height > 0, size.width > 0 else { throw GraphError(.shape, "Resize of \(x) gives an empty output \(size.height)x\(size.width)") }
            out = [x[0], x[1], size.height, size.width]
        case .convTranspose(let a):
            guard shapes.count >= 2, x.count == 4, shapes[1].count == 4 else {
                throw GraphError(.shape, "ConvTranspose supports 2-D images only: input \(x), weight \(shapes.count > 1 ? shapes[1] : [])")
            }
            let w = shapes[1]
            guard w[0] == x[1], w[0] % a.groups == 0, w[2] == a.kernel[0], w[3] == a.kernel[1] else {
                throw GraphError(.shape, "weight \(w) (Cin, Cout/group, kh, kw) does not fit input channels \(x[1]) with group \(a.groups) and kernel \(a.kernel)")
            }
            if shapes.count > 2, shapes[2] != [w[1] * a.groups] {
                throw GraphError(.shape, "bias shape \(shapes[2]) does not match \(w[1] * a.groups) output channels")
            }
            let size = a.outputSize(inputHeight: x[2], inputWidth: x[3])
            guard size.height > 0, size.width > 0 else { throw GraphError(.shape, "ConvTranspose output \(size.height)x\(size.width) is empty") }
            out = [x[0], w[1] * a.groups, size.height, size.width]
        case .reduceSum(let axes, let keepDims), .reduceMax(let axes, let keepDims):
            guard axes.allSatisfy({ $0 < x.count }) else { throw GraphError(.shape, "axes \(axes) out of range for rank \(x.count)") }
            var result = [Int]()
            for (i, d) in x.enumerated() {
                if axes.contains(i) {
                    if case .reduceMax = self, d == 0 { throw GraphError(.shape, "ReduceMax over an empty axis \(i)") }
                    if keepDims { result.append(1) }
                } else { result.append(d) }
            }
            out = result
        case .expand(let target):
            out = try broadcastShapes(x, target.broadcastTarget(batch: batch))
        case .tile(let repeats):
            guard repeats.count == x.count else { throw GraphError(.shape, "Tile has \(repeats.count) repeats for rank \(x.count)") }
            out = zip(x, repeats).map { $0 * $1 }
        case .compare:
            guard shapes.count == 2 else { throw GraphError(.structure, "expected 2 inputs, got \(shapes.count)") }
            out = try broadcastShapes(x, shapes[1])
        case .gather(let a):
            guard a.axis > 0, a.axis < x.count else { throw GraphError(.shape, "Gather axis \(a.axis) out of range for rank \(x.count) (axis 0, the batch, is not supported)") }
            guard a.indices.allSatisfy({ $0 >= 0 && $0 < x[a.axis] }) else {
                throw GraphError(.shape, "Gather indices must lie in 0..<\(x[a.axis]) (the size of axis \(a.axis) of \(x))")
            }
            out = Array(x[..<a.axis]) + a.indicesShape + Array(x[(a.axis + 1)...])
        case .whereSelect:
            guard shapes.count == 3 else { throw GraphError(.structure, "expected 3 inputs, got \(shapes.count)") }
            out = try broadcastShapes(try broadcastShapes(x, shapes[1]), shapes[2])
        default:
            throw GraphError(.structure, "internal: \(onnxName) is not a structural operator")
        }
        // Sizes from attributes can be huge: refuse a count that overflows here; the importer
        // holds every activation to --max-tensor-elements (ActivationLimit.swift).
        var total = 1
        for d in out {
            let (p, overflow) = total.multipliedReportingOverflow(by: d)
            guard d >= 0, !overflow else {
                throw GraphError(.shape, "\(onnxName) output \(out) has more elements than a tensor can hold (see --max-tensor-elements)")
            }
            total = p
        }
        return out
    }
}

extension ShapeTemplate {
    /// The shape an `Expand` broadcasts to at runtime batch `batch` (only fixed sizes and
    /// multiples of the batch occur: Expand has no 0 or -1 entries).
    func broadcastTarget(batch: Int) -> [Int] {
        dimensions.map { d in
            switch d {
            case .fixed(let v): v
            case .batchTimes(let k): k * batch
            case .copyInput, .infer: 1
            }
        }
    }
}
