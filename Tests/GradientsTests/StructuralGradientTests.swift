import Foundation
import Gradients
import NetworkIR
import XCTest

/// Finite-difference checks of the structural operators' backward rules (StructuralBackward).
extension OperatorGradientTests {
    func testLRN() throws {
        try single(.lrn(LRNAttributes(size: 3, alpha: 0.6, beta: 0.75, bias: 1.5)), input: [2, 5, 2, 3], x: values.tensor([2, 5, 2, 3], -2, 2))
        try single(.lrn(LRNAttributes(size: 4, alpha: 0.3, beta: 0.5, bias: 1)), input: [1, 6, 2, 2])
    }

    func testInstanceNormalization() throws {
        try single(.instanceNormalization(epsilon: 1e-3), input: [2, 3, 3, 4], constants: [values.tensor([3], 0.5, 1.5), values.tensor([3])])
    }

    func testResizeNearestAndLinear() throws {
        let forms: [ResizeAttributes] = [
            ResizeAttributes(mode: .nearest, transform: .asymmetric, nearestMode: .simple, scales: [2, 1.5], sizes: nil),
            ResizeAttributes(mode: .nearest, transform: .halfPixel, nearestMode: .roundPreferFloor, scales: [0.6, 2.5], sizes: nil),
            ResizeAttributes(mode: .linear, transform: .halfPixel, nearestMode: .roundPreferFloor, scales: [2, 2], sizes: nil),
            ResizeAttributes(mode: .linear, transform: .alignCorners, nearestMode: .roundPreferFloor, scales: nil, sizes: [5, 3]),
        ]
        for a in forms { try single(.resize(a), input: [1, 2, 3, 4]) }
    }

    func testConvTranspose() throws {
        let forms: [(ConvTransposeAttributes, [Int])] = [
            (ConvTransposeAttributes(kernel: [3, 3], strides: [2, 2], dilations: [1, 1], pads: [1, 1, 1, 1], outputPadding: [1, 1],
                                     autoPad: .notSet, groups: 1), [3, 2, 3, 3]),
            (ConvTransposeAttributes(kernel: [2, 3], strides: [1, 2], dilations: [2, 1], pads: [0, 1, 1, 0], outputPadding: [0, 0],
                                     autoPad: .notSet, groups: 3), [3, 2, 2, 3]),
        ]
        for (a, weight) in forms {
            try single(.convTranspose(a), input: [2, 3, 3, 4], constants: [values.tensor(weight), values.tensor([weight[1] * a.groups])])
        }
    }

    func testReductions() throws {
        try single(.reduceSum(axes: [1, 3], keepDims: true), input: [2, 3, 2, 4])
        try single(.reduceSum(axes: [], keepDims: true), input: [2, 3, 2])
        let x = values.separated([2, 3, 2, 4], spacing: 0.07, offset: 0)
        try single(.reduceMax(axes: [2, 3], keepDims: false), input: [2, 3, 2, 4], x: x)
    }

    func testExpandAndTile() throws {
        try single(.expand(ShapeTemplate([.fixed(3), .fixed(1), .fixed(4)])), input: [2, 1, 3, 1])
        try single(.tile(repeats: [1, 2, 1, 3]), input: [2, 2, 2, 2])
    }

    /// Gather's scatter-add: a permutation, a repeated index (gradients add up), an index never
    /// gathered (zero gradient), 2-D indices along H.
    func testGather() throws {
        try single(.gather(GatherAttributes(axis: 1, indices: [3, 0, 2, 1], indicesShape: [4])), input: [2, 4, 2, 3])
        try single(.gather(GatherAttributes(axis: 1, indices: [2, 2, 0], indicesShape: [3])), input: [2, 4, 3])
        try single(.gather(GatherAttributes(axis: 2, indices: [1, 0, 1, 2], indicesShape: [2, 2])), input: [1, 2, 3, 2])
    }

    /// Where(x > 0, x, tanh(x)·k): the gradient follows the branch each element took; the
    /// condition takes none (so neither does the comparison's constant).
    func testWhereAndCompare() throws {
        var b = GraphBuilder(inputShape: [2, 3, 4])
        let zero = b.constant(Tensor(shape: [1], storage: [0]))
        let condition = b.node(.compare(.greater), [b.input, zero])
        let other = b.node(.mul, [b.node(.tanh, [b.input]), b.constant(values.tensor([3, 1]))])
        let out = b.node(.whereSelect, [condition, b.input, other])
        try FiniteDifference.check(b.graph(output: out), input: values.separated([2, 3, 4], spacing: 0.07, offset: 0.035), skip: [zero])
    }
}
