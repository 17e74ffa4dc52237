import Foundation
import Gradients
import NetworkIR
import XCTest

/// One finite-difference check per operator (and per interesting attribute form), on small
/// seeded shapes. Inputs to piecewise-linear operators keep away from their kinks.
final class OperatorGradientTests: XCTestCase {
    var values = SeededValues(seed: 7)

    func single(_ op: Operator, input shape: [Int], constants: [Tensor] = [], x: Tensor? = nil,
                skip: (GraphBuilder) -> Set<ValueID> = { _ in [] }, tolerance: Double = 1e-2,
                file: StaticString = #filePath, line: UInt = #line) throws {
        var b = GraphBuilder(inputShape: shape)
        let ids = constants.map { b.constant($0) }
        let out = b.node(op, [b.input] + ids)
        let input = x ?? values.tensor(shape)
        try FiniteDifference.check(b.graph(output: out), input: input, tolerance: tolerance, skip: skip(b), file: file, line: line)
    }

    func conv(_ shape: [Int], out: Int, kernel: [Int], strides: [Int] = [1, 1], pads: [Int] = [0, 0, 0, 0],
              dilations: [Int] = [1, 1], groups: Int = 1, bias: Bool = true, autoPad: AutoPad = .notSet,
              file: StaticString = #filePath, line: UInt = #line) throws {
        let a = ConvAttributes(kernel: kernel, strides: strides, dilations: dilations, pads: pads, autoPad: autoPad, groups: groups)
        var constants = [values.tensor([out, shape[1] / groups] + kernel)]
        if bias { constants.append(values.tensor([out])) }
        try single(.conv(a), input: shape, constants: constants, file: file, line: line)
    }

    func testConvPlain() throws { try conv([2, 3, 5, 5], out: 4, kernel: [3, 3]) }
    func testConvStridedPaddedDilated() throws {
        try conv([1, 2, 7, 6], out: 3, kernel: [3, 2], strides: [2, 1], pads: [1, 0, 2, 1], dilations: [2, 1])
    }
    /// Stride-1 ungrouped convolutions take dx as a transposed forward convolution
    /// (ConvolutionBackward.transposedForInput): asymmetric pads, dilation, a kernel the forward
    /// runs by im2col (1×3) and one by shifted views (3×2); pads wider than the kernel fall back.
    func testConvStrideOneTransposedInputGradient() throws {
        try conv([2, 3, 6, 7], out: 4, kernel: [3, 2], pads: [0, 1, 2, 0], dilations: [2, 1])
        try conv([1, 2, 5, 6], out: 3, kernel: [1, 3], pads: [0, 1, 0, 1])
        try conv([1, 3, 7, 7], out: 2, kernel: [3, 3], pads: [1, 1, 1, 1], dilations: [2, 2])
        try conv([1, 2, 4, 4], out: 2, kernel: [3, 3], pads: [3, 0, 0, 3])
    }
    /// Small output planes take dW for several images in one product
    /// (ConvolutionBackward.imagesPerWeightProduct) when the input's gradient is not needed:
    /// equal to the sum of one-image weight gradients, on 1 and 2 threads, strided and pointwise.
    func testConvWeightGradientOfSeveralImagesTogether() throws {
        for (kernel, strides, pads) in [([3, 3], [2, 2], [1, 1, 1, 1]), ([1, 1], [1, 1], [0, 0, 0, 0])] {
            let shape = [5, 3, 8, 8]
            var b = GraphBuilder(inputShape: shape)
            let a = ConvAttributes(kernel: kernel, strides: strides, dilations: [1, 1], pads: pads, autoPad: .notSet, groups: 1)
            let weights = b.constant(values.tensor([4, 3] + kernel))
            let bias = b.constant(values.tensor([4]))
            let output = b.node(.conv(a), [b.input, weights, bias])
            let graph = b.graph(output: output)
            let x = values.tensor(shape)
            let probe = try GraphGradients(graph: graph, threads: 1, batchNormMode: .frozen).forward(x)
            let r = values.tensor(try XCTUnwrap(probe.output(of: graph)).shape)
            let image = shape[1...].reduce(1, *), outputImage = r.count / shape[0]
            var expected = [Double](repeating: 0, count: 4 * 3 * kernel[0] * kernel[1])
            for n in 0..<shape[0] {
                let engine = try GraphGradients(graph: graph, threads: 1, batchNormMode: .frozen)
                let one = Tensor(shape: [1] + shape[1...], storage: Array(x.storage[(n * image)..<((n + 1) * image)]))
                let rOne = Tensor(shape: [1] + r.shape[1...], storage: Array(r.storage[(n * outputImage)..<((n + 1) * outputImage)]))
                let dw = try XCTUnwrap(try engine.backward(engine.forward(one), outputGradient: rOne).constants[weights])
                for (i, v) in dw.storage.enumerated() { expected[i] += Double(v) }
            }
            let peak = expected.map(abs).max() ?? 1
            for threads in [1, 2] {
                let engine = try GraphGradients(graph: graph, threads: threads, batchNormMode: .frozen)
                let result = try engine.backward(engine.forward(x), outputGradient: r, inputGradient: false)
                XCTAssertNil(result.input)
                let dw = try XCTUnwrap(result.constants[weights])
                let error = zip(dw.storage, expected).map { abs(Double($0) - $1) }.max() ?? 0
                XCTAssertLessThanOrEqual(error / peak, 1e-5, "kernel \(kernel), \(threads) threads")
            }
        }
    }
    func testConvGrouped() throws { try conv([2, 4, 5, 5], out: 6, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], groups: 2) }
    func testConvDepthwise() throws { try conv([2, 3, 6, 6], out: 3, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], groups: 3) }
    func testConvDepthwiseMultiplier() throws { try conv([1, 2, 5, 5], out: 4, kernel: [3, 3], pads: [1, 1, 1, 1], groups: 2, bias: false) }
    func testConvPointwise() throws { try conv([2, 5, 3, 4], out: 3, kernel: [1, 1]) }
    func testConvSameUpper() throws { try conv([1, 2, 5, 5], out: 2, kernel: [3, 3], strides: [2, 2], autoPad: .sameUpper) }

    func testBatchNormalization() throws {
        let c = 3
        let variance = Tensor(shape: [c], storage: (0..<c).map { _ in values.uniform(0.5, 2) })
        try single(.batchNormalization(epsilon: 1e-5), input: [2, c, 3, 3],
                   constants: [values.tensor([c]), values.tensor([c]), values.tensor([c]), variance],
                   skip: { b in [b.values.count - 2, b.values.count - 3].reduce(into: Set()) { $0.insert($1) } })
    }

    /// Training mode: batch statistics, the gradient flowing through the mean and variance; a Tanh
    /// after the BN makes the loss non-linear in its output.
    func testBatchNormalizationTraining() throws {
        let c = 3
        var b = GraphBuilder(inputShape: [3, c, 2, 3])
        let gamma = b.constant(values.tensor([c], 0.5, 1.5)), beta = b.constant(values.tensor([c]))
        let mean = b.constant(values.tensor([c])), variance = b.constant(Tensor(shape: [c], storage: [1, 2, 0.5]))
        let bn = b.node(.batchNormalization(epsilon: 1e-5), [b.input, gamma, beta, mean, variance])
        let out = b.node(.tanh, [bn])
        try FiniteDifference.check(b.graph(output: out), input: values.tensor([3, c, 2, 3], -2, 2), skip: [mean, variance],
                                   batchNormMode: .training)
    }

    func kinked(_ op: Operator, offset: Float) throws {
        let x = values.separated([2, 3, 4, 4], spacing: 0.07, offset: offset)
        try single(op, input: [2, 3, 4, 4], x: x)
    }

    func testRelu() throws { try kinked(.relu, offset: 0.035) }
    func testLeakyRelu() throws { try kinked(.leakyRelu(alpha: 0.1), offset: 0.035) }
    func testClip() throws {
        // Kinks at 0 and 1.05 (a multiple of the spacing): values sit 0.035 from both.
        try kinked(.clip(min: 0, max: 1.05), offset: 0.035)
    }
    func testSigmoid() throws { try single(.sigmoid, input: [2, 3, 4], x: values.tensor([2, 3, 4], -3, 3)) }
    func testHardSigmoid() throws {
        // Kinks where 0.2x + 0.5 is 0 or 1: x = ±2.5, multiples of the spacing 0.25 (shifted below).
        let x = values.separated([2, 3, 4, 4], spacing: 0.0625, offset: 0.03125)
        try single(.hardSigmoid(alpha: 0.2, beta: 0.5), input: [2, 3, 4, 4], x: x)
    }
    func testHardSwish() throws {
        let x = values.separated([2, 3, 4, 4], spacing: 0.075, offset: 0.0375)
        try single(.hardSwish, input: [2, 3, 4, 4], x: x)
    }
    func testTanh() throws { try single(.tanh, input: [2, 3, 4], x: values.tensor([2, 3, 4], -2, 2)) }

    func binary(_ op: Operator, constant shape: [Int]) throws {
        var c = values.tensor(shape)
        if op == .div { c.storage = c.storage.map { $0 < 0 ? $0 - 0.5 : $0 + 0.5 } }
        try single(op, input: [2, 3, 4, 4], constants: [c])
    }

    func testAddBroadcastPerChannel() throws { try binary(.add, constant: [3, 1, 1]) }
    func testSubSameShape() throws { try binary(.sub, constant: [1, 3, 4, 4]) }
    func testMulBroadcastRow() throws { try binary(.mul, constant: [4]) }
    func testDivBroadcast() throws { try binary(.div, constant: [3, 1, 4]) }

    /// Both operands are activations (one value read twice: gradients must add).
    func testMulSelfAndResidualAdd() throws {
        var b = GraphBuilder(inputShape: [2, 3, 3])
        let s = b.node(.sigmoid, [b.input])
        let m = b.node(.mul, [b.input, b.input])
        let out = b.node(.add, [m, s])
        try FiniteDifference.check(b.graph(output: out), input: values.tensor([2, 3, 3]))
    }

    func pool(_ a: PoolAttributes, average includePad: Bool? = nil, shape: [Int] = [2, 2, 6, 7]) throws {
        let x = values.separated(shape, spacing: 0.05, offset: 0)
        let op: Operator = includePad.map { .averagePool(a, countIncludePad: $0) } ?? .maxPool(a)
        try single(op, input: shape, x: x)
    }

    func testMaxPool() throws {
        try pool(PoolAttributes(kernel: [3, 3], strides: [2, 2], dilations: [1, 1], pads: [1, 1, 1, 1], autoPad: .notSet, ceilMode: false))
    }
    func testMaxPoolCeilDilated() throws {
        try pool(PoolAttributes(kernel: [2, 2], strides: [2, 2], dilations: [2, 1], pads: [0, 0, 0, 0], autoPad: .notSet, ceilMode: true))
    }
    func testAveragePoolIncludingPad() throws {
        try pool(PoolAttributes(kernel: [3, 3], strides: [2, 2], dilations: [1, 1], pads: [1, 1, 1, 1], autoPad: .notSet, ceilMode: false), average: true)
    }
    func testAveragePoolExcludingPadCeil() throws {
        try pool(PoolAttributes(kernel: [3, 2], strides: [2, 2], dilations: [1, 1], pads: [1, 0, 1, 0], autoPad: .notSet, ceilMode: true), average: false)
    }
    func testGlobalAveragePool() throws { try single(.globalAveragePool, input: [2, 3, 3, 4]) }
    func testReduceMean() throws { try single(.reduceMean(axes: [1, 3], keepDims: false), input: [2, 3, 2, 4]) }

    func testShapeOperators() throws {
        var b = GraphBuilder(inputShape: [2, 3, 2, 2])
        let f = b.node(.flatten(axis: 1), [b.input])
        let r = b.node(.reshape(ShapeTemplate([.copyInput, .fixed(3), .infer])), [f])
        let u = b.node(.unsqueeze(axes: [1]), [r])
        let s = b.node(.squeeze(axes: [1]), [u])
        let t = b.node(.transpose(permutation: [2, 0, 1]), [s])
        let w = b.constant(values.tensor([3, 1, 4]))
        let out = b.node(.mul, [t, b.node(.tanh, [b.node(.transpose(permutation: [2, 1, 0]), [w])])])
        try FiniteDifference.check(b.graph(output: out), input: values.tensor([2, 3, 2, 2]))
    }

    func testConcat() throws {
        var b = GraphBuilder(inputShape: [2, 2, 3])
        let s = b.node(.sigmoid, [b.input])
        let t = b.node(.tanh, [b.input])
        let out = b.node(.concat(axis: 1), [s, b.input, t])
        try FiniteDifference.check(b.graph(output: out), input: values.tensor([2, 2, 3]))
    }

    func testPadModes() throws {
        for mode in [PadMode.constant, .reflect, .edge] {
            try single(.pad(pads: [0, 0, 1, 2, 0, 0, 2, 1], mode: mode, value: 0.5), input: [1, 2, 4, 4])
        }
        try single(.pad(pads: [0, 0, -1, 1, 0, 0, 1, -1], mode: .constant, value: 0), input: [1, 2, 4, 4])
    }

    func testSlice() throws {
        try single(.slice(SliceAttributes(starts: [1, -1], ends: [4, 0], axes: [2, 3], steps: [2, -1])), input: [1, 2, 5, 4])
    }

    func testGemmAllTransposeForms() throws {
        for (transA, transB) in [(false, false), (false, true), (true, false), (true, true)] {
            let k = 4, n = 3
            // The batch (first) axis must stay first for shape inference: a transposed A is made in the graph.
            var b = GraphBuilder(inputShape: [5, k])
            let a = transA ? b.node(.transpose(permutation: [1, 0]), [b.input]) : b.input
            let bw = b.constant(values.tensor(transB ? [n, k] : [k, n]))
            let c = b.constant(values.tensor([n]))
            let out = b.node(.gemm(alpha: 0.7, beta: 1.3, transA: transA, transB: transB), [a, bw, c])
            try FiniteDifference.check(b.graph(output: out), input: values.tensor([5, k]))
        }
    }

    func testMatMulBroadcast() throws {
        try single(.matMul, input: [2, 3, 4], constants: [values.tensor([4, 5])])
        try single(.matMul, input: [2, 4], constants: [values.tensor([3, 4, 2])])
    }

    func testSoftmax() throws {
        try single(.softmax(axis: 1), input: [2, 5], x: values.tensor([2, 5], -2, 2))
        try single(.softmax(axis: 1), input: [2, 3, 2], x: values.tensor([2, 3, 2], -2, 2))
    }
}

/// Forms the backward pass refuses, with the node named.
final class GradientErrorTests: XCTestCase {
    func testConvWithComputedWeightIsRefusedByName() throws {
        var b = GraphBuilder(inputShape: [1, 1, 3, 3])
        let w = b.node(.relu, [b.input])
        let out = b.node(.conv(ConvAttributes(kernel: [3, 3], strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0], autoPad: .notSet, groups: 1)), [b.input, w])
        XCTAssertThrowsError(try GraphGradients(graph: b.graph(output: out))) { error in
            XCTAssertEqual("\(error)", "node n1 (Conv): Conv with a computed (non-constant) weight is not differentiable here")
        }
    }

    func testWrongInputShapeAndOutputGradient() throws {
        var b = GraphBuilder(inputShape: [1, 2, 3])
        let out = b.node(.relu, [b.input])
        let engine = try GraphGradients(graph: b.graph(output: out))
        XCTAssertThrowsError(try engine.forward(Tensor(zeros: [1, 3, 3]))) { error in
            XCTAssertTrue("\(error)".contains("does not match the model's (N, 2, 3)"), "\(error)")
        }
        let record = try engine.forward(Tensor(zeros: [2, 2, 3]))
        XCTAssertThrowsError(try engine.backward(record, outputGradient: Tensor(zeros: [2, 6])))
        XCTAssertThrowsError(try engine.gradients(input: Tensor(zeros: [2, 2, 3]), loss: .softmaxCrossEntropy(labels: [0, 1]))) { error in
            XCTAssertTrue("\(error)".contains("expected logits of shape (N, classes)"), "\(error)")
        }
    }

    func testRequestedActivationGradientsAreReturned() throws {
        var b = GraphBuilder(inputShape: [2, 3])
        let hidden = b.node(.tanh, [b.input])
        let out = b.node(.mul, [hidden, b.constant(Tensor(shape: [3], storage: [1, 2, 3]))])
        let engine = try GraphGradients(graph: b.graph(output: out))
        let x = Tensor(shape: [2, 3], storage: [0.1, -0.2, 0.3, 0.4, 0.5, -0.6])
        let result = try engine.gradients(input: x, loss: .softmaxCrossEntropy(labels: [2, 0]), activations: [hidden])
        let dHidden = try XCTUnwrap(result.activations[hidden])
        let dInput = try XCTUnwrap(result.input)
        // dL/dx = dL/dhidden · (1 − tanh²x): the two must be consistent.
        for i in 0..<6 {
            let t = Float(Foundation.tanh(Double(x.storage[i])))
            XCTAssertEqual(dInput.storage[i], dHidden.storage[i] * (1 - t * t), accuracy: 1e-6)
        }
    }
}
