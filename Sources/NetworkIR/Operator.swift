/// The operators WeakSpot executes, with their attributes already checked and normalised by the
/// importer. Shape-like operands that ONNX passes as tensors (Reshape's shape, Slice's starts,
/// Pad's pads, Clip's bounds, ...) are constants folded into attributes here, so that every runtime
/// input of a node is an activation or a constant weight.
public enum Operator: Sendable, Equatable {
    /// ONNX `Conv`, NCHW input, inputs: data, weight (OIHW constant), optional bias.
    case conv(ConvAttributes)
    /// ONNX `BatchNormalization` in inference form; inputs: data, scale, bias, mean, variance.
    case batchNormalization(epsilon: Float)
    case relu
    case leakyRelu(alpha: Float)
    /// Bounds are ±infinity when absent.
    case clip(min: Float, max: Float)
    case sigmoid
    /// y = max(0, min(1, alpha·x + beta)).
    case hardSigmoid(alpha: Float, beta: Float)
    /// y = x · max(0, min(1, x/6 + 1/2)).
    case hardSwish
    case tanh
    /// A QuantizeLinear → DequantizeLinear pair on an activation (per tensor), see `FakeQuantization`.
    case fakeQuantize(FakeQuantization)
    /// Numpy-broadcasting binary operators.
    case add, sub, mul, div
    case maxPool(PoolAttributes)
    case averagePool(PoolAttributes, countIncludePad: Bool)
    case globalAveragePool
    /// Axes normalised to non-negative values and sorted.
    case reduceMean(axes: [Int], keepDims: Bool)
    /// Output is 2-D: dimensions before `axis` multiplied, then those after.
    case flatten(axis: Int)
    /// Target shape as a template evaluated against the runtime batch size.
    case reshape(ShapeTemplate)
    case transpose(permutation: [Int])
    case squeeze(axes: [Int])
    /// Axes of the output, normalised and sorted.
    case unsqueeze(axes: [Int])
    case concat(axis: Int)
    /// Constant-mode or reflect/edge padding; `pads` is ONNX's [begin_0, ..., begin_k, end_0, ..., end_k].
    case pad(pads: [Int], mode: PadMode, value: Float)
    /// ONNX `Gemm`; inputs A, B, optional C.
    case gemm(alpha: Float, beta: Float, transA: Bool, transB: Bool)
    /// Numpy `matmul` semantics (batched, broadcasting leading dimensions).
    case matMul
    case softmax(axis: Int)
    /// Per-axis starts/ends/steps, already clamped to ONNX semantics for a given input rank;
    /// ends may depend on the runtime size, so they are resolved at execution.
    case slice(SliceAttributes)
    /// An element-wise function of one activation (Elu, Selu, Softplus, Exp, Gelu, ...).
    case unary(UnaryFunction)
    /// ONNX `PRelu`; inputs: data, slope (a constant broadcast to the data's shape).
    case prelu
    /// ONNX `Pow` with a constant exponent tensor broadcast against the base (a one-element
    /// exponent that does not widen the base is `.unary(.power)`); inputs: base, exponent.
    case pow
    /// Sum/Max/Min/Mean of 1…N operands with numpy broadcasting.
    case variadic(VariadicKind)
    /// LogSoftmax, Hardmax, and Softmax with the pre-opset-13 2-D coercion.
    case softmaxFamily(SoftmaxFamily)
    // Structural, normalization and resampling operators (StructuralOperators.swift).
    /// Cross-channel local response normalization.
    case lrn(LRNAttributes)
    /// Inputs: data, scale (C), bias (C), both constants.
    case instanceNormalization(epsilon: Float)
    /// ONNX `Resize` and `Upsample` on H and W.
    case resize(ResizeAttributes)
    /// Inputs: data, weight (Cin, Cout/groups, kh, kw) constant, optional bias.
    case convTranspose(ConvTransposeAttributes)
    /// Axes normalised and sorted; empty means "no reduction" (noop_with_empty_axes).
    case reduceSum(axes: [Int], keepDims: Bool)
    case reduceMax(axes: [Int], keepDims: Bool)
    /// Broadcast to a target whose entries are fixed or multiples of the batch.
    case expand(ShapeTemplate)
    case tile(repeats: [Int])
    /// Inputs: condition (non-zero is true), x, y; numpy broadcasting.
    case whereSelect
    /// Equal/Less/Greater on activations, 1 or 0 in float32.
    case compare(ComparisonKind)
    /// ONNX `Gather` of an activation with constant indices (a channel selection or permutation).
    case gather(GatherAttributes)
}

public enum PadMode: String, Sendable, Equatable {
    case constant, reflect, edge

    /// The input index a padded coordinate reads along an axis of `size` cells, given `i` = the
    /// output index minus the leading pad; nil for a constant-padding cell. Shared by the Pad
    /// kernel and its gradient, which must agree cell for cell.
    @inline(__always)
    public func sourceIndex(_ i: Int, size n: Int) -> Int? {
        if i >= 0 && i < n { return i }
        switch self {
        case .constant: return nil
        case .edge: return min(max(i, 0), n - 1)
        case .reflect:
            if n == 1 { return 0 }
            let period = 2 * (n - 1)
            let r = ((i % period) + period) % period
            return r >= n ? period - r : r
        }
    }
}

public enum AutoPad: String, Sendable, Equatable {
    case notSet = "NOTSET", sameUpper = "SAME_UPPER", sameLower = "SAME_LOWER", valid = "VALID"
}

/// Convolution geometry over the spatial axes (2-D only: H then W).
public struct ConvAttributes: Sendable, Equatable {
    public var kernel: [Int]
    public var strides: [Int]
    public var dilations: [Int]
    /// [top, left, bottom, right]; ignored unless `autoPad == .notSet`.
    public var pads: [Int]
    public var autoPad: AutoPad
    public var groups: Int

    public init(kernel: [Int], strides: [Int], dilations: [Int], pads: [Int], autoPad: AutoPad, groups: Int) {
        self.kernel = kernel
        self.strides = strides
        self.dilations = dilations
        self.pads = pads
        self.autoPad = autoPad
        self.groups = groups
    }

    /// Resolved [top, left, bottom, right] padding for an input of the given spatial size.
    public func resolvedPads(inputHeight: Int, inputWidth: Int) -> [Int] {
        switch autoPad {
        case .notSet: return pads
        case .valid: return [0, 0, 0, 0]
        case .sameUpper, .sameLower:
            var result = [0, 0, 0, 0]
            for (axis, size) in [inputHeight, inputWidth].enumerated() {
                let out = (size + strides[axis] - 1) / strides[axis]
                let effective = (kernel[axis] - 1) * dilations[axis] + 1
                let total = max(0, (out - 1) * strides[axis] + effective - size)
                let small = total / 2, large = total - small
                result[axis] = autoPad == .sameUpper ? small : large
                result[axis + 2] = autoPad == .sameUpper ? large : small
            }
            return result
        }
    }

    /// Output spatial size for an input of the given size.
    public func outputSize(inputHeight: Int, inputWidth: Int) -> (height: Int, width: Int) {
        let p = resolvedPads(inputHeight: inputHeight, inputWidth: inputWidth)
        let h = (inputHeight + p[0] + p[2] - ((kernel[0] - 1) * dilations[0] + 1)) / strides[0] + 1
        let w = (inputWidth + p[1] + p[3] - ((kernel[1] - 1) * dilations[1] + 1)) / strides[1] + 1
        return (h, w)
    }
}

/// Pooling window geometry (2-D).
public struct PoolAttributes: Sendable, Equatable {
    public var kernel: [Int]
    public var strides: [Int]
    public var dilations: [Int]
    /// [top, left, bottom, right]; ignored unless `autoPad == .notSet`.
    public var pads: [Int]
    public var autoPad: AutoPad
    public var ceilMode: Bool

    public init(kernel: [Int], strides: [Int], dilations: [Int], pads: [Int], autoPad: AutoPad, ceilMode: Bool) {
        self.kernel = kernel
        self.strides = strides
        self.dilations = dilations
        self.pads = pads
        self.autoPad = autoPad
        self.ceilMode = ceilMode
    }

    var asConv: ConvAttributes {
        ConvAttributes(kernel: kernel, strides: strides, dilations: dilations, pads: pads, autoPad: autoPad, groups: 1)
    }

    public func resolvedPads(inputHeight: Int, inputWidth: Int) -> [Int] {
        asConv.resolvedPads(inputHeight: inputHeight, inputWidth: inputWidth)
    }

    /// Output size with ONNX's ceil_mode rule: with ceil mode, a last window must start inside
    /// the input or the left padding (as PyTorch and ONNX Runtime require).
    public func outputSize(inputHeight: Int, inputWidth: Int) -> (height: Int, width: Int) {
        let p = resolvedPads(inputHeight: inputHeight, inputWidth: inputWidth)
        var out = [0, 0]
        for (axis, size) in [inputHeight, inputWidth].enumerated() {
            let effective = (kernel[axis] - 1) * dilations[axis] + 1
            let span = size + p[axis] + p[axis + 2] - effective
            if ceilMode && autoPad == .notSet {
                var n = (span + strides[axis] - 1) / strides[axis] + 1
                if (n - 1) * strides[axis] >= size + p[axis] { n -= 1 }
                out[axis] = n
            } else {
                out[axis] = span / strides[axis] + 1
            }
        }
        return (out[0], out[1])
    }
}

/// One entry of a reshape target: a fixed size, a multiple of the batch size, ONNX's 0 ("copy the
/// input's dimension") or -1 ("infer").
public enum ShapeTemplateDimension: Sendable, Equatable {
    case fixed(Int)
    case batchTimes(Int)
    case copyInput
    case infer
}

public struct ShapeTemplate: Sendable, Equatable {
    public var dimensions: [ShapeTemplateDimension]
    public init(_ dimensions: [ShapeTemplateDimension]) { self.dimensions = dimensions }

    /// The concrete target for an input of `inputShape` at runtime batch `batch`.
    public func resolve(inputShape: [Int], batch: Int) throws(GraphError) -> [Int] {
        var result = [Int]()
        var inferAt: Int? = nil
        for (i, d) in dimensions.enumerated() {
            switch d {
            case .fixed(let v): result.append(v)
            case .batchTimes(let k): result.append(k * batch)
            case .copyInput:
                guard i < inputShape.count else {
                    throw GraphError(.shape, "reshape: 0 at position \(i) but the input has rank \(inputShape.count)")
                }
                result.append(inputShape[i])
            case .infer:
                inferAt = i
                result.append(1)
            }
        }
        let total = inputShape.reduce(1, *)
        let known = result.reduce(1, *)
        if let i = inferAt {
            guard known > 0, total % known == 0 else {
                throw GraphError(.shape, "reshape: cannot infer -1 for \(inputShape) into \(result)")
            }
            result[i] = total / known
        } else if known != total {
            throw GraphError(.shape, "reshape: input \(inputShape) has \(total) elements, target \(result) has \(known)")
        }
        return result
    }
}

public struct SliceAttributes: Sendable, Equatable {
    public var starts: [Int]
    public var ends: [Int]
    /// Normalised to non-negative values.
    public var axes: [Int]
    public var steps: [Int]
    public init(starts: [Int], ends: [Int], axes: [Int], steps: [Int]) {
        self.starts = starts
        self.ends = ends
        self.axes = axes
        self.steps = steps
    }

    /// For each axis: (start, count, step) after ONNX's clamping rules for an input of `shape`.
    public func resolve(shape: [Int]) -> [(axis: Int, start: Int, count: Int, step: Int)] {
        var result: [(axis: Int, start: Int, count: Int, step: Int)] = []
        for (i, axis) in axes.enumerated() {
            let dim = shape[axis], step = steps[i]
            var start = starts[i], end = ends[i]
            if start < 0 { start += dim }
            if end < 0 { end += dim }
            if step > 0 {
                start = min(max(start, 0), dim)
                end = min(max(end, 0), dim)
                let count = end > start ? (end - start + step - 1) / step : 0
                result.append((axis, start, count, step))
            } else {
                start = min(max(start, 0), dim - 1)
                end = min(max(end, -1), dim - 1)
                let count = start > end ? (start - end + (-step) - 1) / (-step) : 0
                result.append((axis, start, count, step))
            }
        }
        return result
    }
}

extension Operator {
    /// The ONNX operator name, for messages and reports.
    public var onnxName: String {
        switch self {
        case .conv: "Conv"
        case .batchNormalization: "BatchNormalization"
        case .relu: "Relu"
        case .leakyRelu: "LeakyRelu"
        case .clip: "Clip"
        case .sigmoid: "Sigmoid"
        case .hardSigmoid: "HardSigmoid"
        case .hardSwish: "HardSwish"
        case .tanh: "Tanh"
        case .fakeQuantize: "QuantizeLinear+DequantizeLinear"
        case .add: "Add"
        case .sub: "Sub"
        case .mul: "Mul"
        case .div: "Div"
        case .maxPool: "MaxPool"
        case .averagePool: "AveragePool"
        case .globalAveragePool: "GlobalAveragePool"
        case .reduceMean: "ReduceMean"
        case .flatten: "Flatten"
        case .reshape: "Reshape"
        case .transpose: "Transpose"
        case .squeeze: "Squeeze"
        case .unsqueeze: "Unsqueeze"
        case .concat: "Concat"
        case .pad: "Pad"
        case .gemm: "Gemm"
        case .matMul: "MatMul"
        case .softmax: "Softmax"
        case .slice: "Slice"
        case .unary(let f): f.onnxName
        case .prelu: "PRelu"
        case .pow: "Pow"
        case .variadic(let kind): kind.rawValue
        case .softmaxFamily(let s): s.kind.rawValue
        case .lrn: "LRN"
        case .instanceNormalization: "InstanceNormalization"
        case .resize: "Resize"
        case .convTranspose: "ConvTranspose"
        case .reduceSum: "ReduceSum"
        case .reduceMax: "ReduceMax"
        case .expand: "Expand"
        case .tile: "Tile"
        case .whereSelect: "Where"
        case .compare(let kind): kind.rawValue
        case .gather: "Gather"
        }
    }

    /// Operators that act on each element independently of the others.
    public var isUnaryElementwise: Bool {
        switch self {
        case .relu, .leakyRelu, .clip, .sigmoid, .hardSigmoid, .hardSwish, .tanh, .fakeQuantize: true
        case .unary: true
        default: false
        }
    }
}
