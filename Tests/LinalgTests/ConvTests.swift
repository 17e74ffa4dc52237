import Linalg
import XCTest

final class ConvTests: XCTestCase {
    private typealias Case = ConvCase

    private static func geometry(_ cin: Int, _ cout: Int, _ kh: Int, _ kw: Int, stride: (Int, Int) = (1, 1),
                                 pads: (Int, Int, Int, Int) = (0, 0, 0, 0), dilation: (Int, Int) = (1, 1),
                                 groups: Int = 1) -> ConvGeometry {
        ConvGeometry(inputChannels: cin, outputChannels: cout, kernelHeight: kh, kernelWidth: kw,
                     strideHeight: stride.0, strideWidth: stride.1, padTop: pads.0, padLeft: pads.1,
                     padBottom: pads.2, padRight: pads.3, dilationHeight: dilation.0, dilationWidth: dilation.1,
                     groups: groups)
    }

    private static let cases: [Case] = [
        Case(name: "3x3 same", geometry: geometry(5, 7, 3, 3, pads: (1, 1, 1, 1)), height: 9, width: 11),
        Case(name: "3x3 same batch 3", geometry: geometry(4, 33, 3, 3, pads: (1, 1, 1, 1)), height: 8, width: 13, batch: 3),
        Case(name: "3x3 stride 2", geometry: geometry(6, 16, 3, 3, stride: (2, 2), pads: (1, 1, 1, 1)), height: 15, width: 12),
        Case(name: "1x1 pointwise", geometry: geometry(19, 29, 1, 1), height: 7, width: 9),
        Case(name: "1x1 pointwise batch 3", geometry: geometry(8, 15, 1, 1), height: 6, width: 6, batch: 3),
        Case(name: "1x1 stride 2", geometry: geometry(12, 20, 1, 1, stride: (2, 2)), height: 9, width: 8),
        Case(name: "7x7 stride 2 stem", geometry: geometry(3, 16, 7, 7, stride: (2, 2), pads: (3, 3, 3, 3)), height: 23, width: 21),
        Case(name: "7x7 stride 2 stem batch 3", geometry: geometry(3, 8, 7, 7, stride: (2, 2), pads: (3, 3, 3, 3)), height: 16, width: 16, batch: 3),
        Case(name: "5x5 stride 2 (shifted with phases)", geometry: geometry(4, 6, 5, 5, stride: (2, 2), pads: (2, 1, 2, 3), dilation: (1, 2)), height: 17, width: 23, batch: 3),
        Case(name: "asymmetric pads", geometry: geometry(3, 5, 3, 2, pads: (0, 2, 1, 0)), height: 7, width: 6),
        Case(name: "tf same stride 2", geometry: geometry(4, 6, 3, 3, stride: (2, 2), pads: (0, 0, 1, 1)), height: 10, width: 10),
        Case(name: "stride 2x1 (im2col with unit-stride runs)", geometry: geometry(5, 6, 3, 3, stride: (2, 1), pads: (1, 2, 0, 1)), height: 11, width: 40),
        Case(name: "dilation 2", geometry: geometry(4, 9, 3, 3, pads: (2, 2, 2, 2), dilation: (2, 2)), height: 10, width: 9),
        Case(name: "dilation 2x1 stride 1x2", geometry: geometry(3, 4, 3, 3, stride: (1, 2), pads: (1, 0, 2, 1), dilation: (2, 1)), height: 9, width: 11),
        Case(name: "groups 2", geometry: geometry(6, 10, 3, 3, pads: (1, 1, 1, 1), groups: 2), height: 8, width: 7),
        Case(name: "groups 3 batch 3", geometry: geometry(9, 6, 3, 3, stride: (2, 2), pads: (1, 1, 1, 1), groups: 3), height: 7, width: 9, batch: 3),
        Case(name: "depthwise 3x3 s1", geometry: geometry(10, 10, 3, 3, pads: (1, 1, 1, 1), groups: 10), height: 12, width: 37),
        Case(name: "depthwise 3x3 s2", geometry: geometry(7, 7, 3, 3, stride: (2, 2), pads: (1, 1, 1, 1), groups: 7), height: 13, width: 40),
        Case(name: "depthwise 3x3 s2 tf pads", geometry: geometry(4, 4, 3, 3, stride: (2, 2), pads: (0, 0, 1, 1), groups: 4), height: 12, width: 12, batch: 3),
        Case(name: "depthwise 5x5 s1", geometry: geometry(5, 5, 5, 5, pads: (2, 2, 2, 2), groups: 5), height: 11, width: 19),
        Case(name: "depthwise 5x5 s2", geometry: geometry(6, 6, 5, 5, stride: (2, 2), pads: (2, 2, 2, 2), groups: 6), height: 14, width: 17),
        Case(name: "depthwise dilation 2", geometry: geometry(3, 3, 3, 3, pads: (2, 2, 2, 2), dilation: (2, 2), groups: 3), height: 9, width: 10),
        Case(name: "depthwise 3x2 asymmetric", geometry: geometry(4, 4, 3, 2, stride: (1, 2), pads: (1, 0, 0, 1), groups: 4), height: 8, width: 9),
        Case(name: "depthwise 3x3 no pad", geometry: geometry(3, 3, 3, 3, groups: 3), height: 5, width: 5, batch: 3),
        Case(name: "depthwise 9x9 (tap table in scratch)", geometry: geometry(2, 2, 9, 9, stride: (2, 1), pads: (4, 4, 3, 4), groups: 2), height: 13, width: 12),
        Case(name: "depthwise 1x1", geometry: geometry(3, 3, 1, 1, groups: 3), height: 4, width: 5),
        Case(name: "depthwise stride 5x4 runs as grouped gemm", geometry: geometry(3, 3, 3, 3, stride: (5, 4), pads: (1, 1, 1, 1), groups: 3), height: 17, width: 13),
        Case(name: "input smaller than padded kernel", geometry: geometry(2, 3, 3, 3, pads: (1, 1, 1, 1)), height: 1, width: 1),
        Case(name: "kernel wider than the packing tables", geometry: geometry(2, 3, 3, 13, stride: (1, 2), pads: (1, 6, 1, 5)), height: 6, width: 30),
        Case(name: "im2col: kernel wider than the packing tables, unit column stride", geometry: geometry(2, 3, 3, 13, stride: (17, 1), pads: (1, 6, 1, 5)), height: 40, width: 30),
        Case(name: "im2col: stride 9x2", geometry: geometry(3, 5, 3, 3, stride: (9, 2), pads: (1, 1, 1, 1)), height: 30, width: 41),
        Case(name: "im2col: stride 2x9 dilated", geometry: geometry(3, 4, 3, 3, stride: (2, 9), pads: (2, 0, 1, 3), dilation: (2, 2)), height: 15, width: 50),
        Case(name: "pointwise K=16 at large N (mobilenet_v2 expansion)", geometry: geometry(16, 96, 1, 1), height: 112, width: 112, batch: 2),
        Case(name: "depthwise 3x3 s2 at 112x112", geometry: geometry(24, 24, 3, 3, stride: (2, 2), pads: (1, 1, 1, 1), groups: 24), height: 112, width: 112, batch: 2),
        Case(name: "depthwise 21 channels at 7x7", geometry: geometry(21, 21, 3, 3, pads: (1, 1, 1, 1), groups: 21), height: 7, width: 7, batch: 2),
        Case(name: "depthwise 3x3 s2 at 28x28 tf pads", geometry: geometry(18, 18, 3, 3, stride: (2, 2), pads: (0, 0, 1, 1), groups: 18), height: 28, width: 28),
        Case(name: "depthwise 3x3 s1 40 wide", geometry: geometry(5, 5, 3, 3, pads: (1, 1, 1, 1), groups: 5), height: 60, width: 40, batch: 2),
        Case(name: "wide output crosses panels", geometry: geometry(2, 3, 3, 3, pads: (1, 1, 1, 1)), height: 3, width: 70),
        // im2col with stride 2 along rows long enough for the vector gather of 16 floats, and
        // rows where the last vector would leave the input row.
        Case(name: "im2col 3x3 stride 2, 35 wide", geometry: geometry(5, 8, 3, 3, stride: (2, 2), pads: (1, 1, 1, 1)), height: 9, width: 70),
        Case(name: "im2col 3x3 stride 2, odd width, tf pads", geometry: geometry(6, 7, 3, 3, stride: (2, 2), pads: (0, 0, 1, 1)), height: 7, width: 67, batch: 2),
        Case(name: "stem 3x3 stride 2, 3 channels", geometry: geometry(3, 10, 3, 3, stride: (2, 2), pads: (1, 1, 1, 1)), height: 21, width: 38, batch: 2),
        // The direct depthwise body (output rows wider than 28, or row stride above 2): masked
        // vectors at both row ends, short last vectors, the zero row for padded rows.
        Case(name: "depthwise direct 5x5 s1", geometry: geometry(3, 3, 5, 5, pads: (2, 2, 2, 2), groups: 3), height: 9, width: 45),
        Case(name: "depthwise direct 5x5 s2 asymmetric pads", geometry: geometry(4, 4, 5, 5, stride: (2, 2), pads: (2, 1, 2, 3), groups: 4), height: 11, width: 75),
        Case(name: "depthwise direct 3x3 s2 tf pads odd width", geometry: geometry(3, 3, 3, 3, stride: (2, 2), pads: (0, 0, 1, 1), groups: 3), height: 9, width: 61, batch: 2),
        Case(name: "depthwise direct 3x3 s1 asymmetric pads", geometry: geometry(5, 5, 3, 3, pads: (2, 0, 0, 2), groups: 5), height: 6, width: 33),
        Case(name: "depthwise direct 3x3 stride 3x1 width 5", geometry: geometry(3, 3, 3, 3, stride: (3, 1), pads: (1, 1, 1, 1), groups: 3), height: 10, width: 5),
        Case(name: "depthwise direct 5x5 stride 3x2 width 9", geometry: geometry(2, 2, 5, 5, stride: (3, 2), pads: (2, 2, 1, 2), groups: 2), height: 13, width: 9),
        // The blocked body (8 channels per vector): channel counts not a multiple of 8, both
        // strides, planes from 1 to 28 outputs wide.
        Case(name: "depthwise blocked 3x3 stride 2x1, 13 channels", geometry: geometry(13, 13, 3, 3, stride: (2, 1), pads: (1, 1, 1, 1), groups: 13), height: 11, width: 9),
        Case(name: "depthwise blocked 5x5 s1 14x14, 17 channels", geometry: geometry(17, 17, 5, 5, pads: (2, 2, 2, 2), groups: 17), height: 14, width: 14, batch: 2),
        Case(name: "depthwise blocked 3x3 s1 28 wide asymmetric", geometry: geometry(9, 9, 3, 3, pads: (0, 1, 2, 1), groups: 9), height: 27, width: 28),
        Case(name: "depthwise blocked 5x5 s2 tf pads", geometry: geometry(8, 8, 5, 5, stride: (2, 2), pads: (1, 1, 2, 2), groups: 8), height: 15, width: 15),
        Case(name: "depthwise blocked 3x3 s2 1x1 output", geometry: geometry(3, 3, 3, 3, stride: (2, 2), pads: (1, 1, 1, 1), groups: 3), height: 2, width: 1),
    ]

    private func run(_ c: Case, isa: KernelISA, bias: Bool, residual: Bool, activation: Activation,
                     threads: Int) throws -> (got: [Float], reference: [ReferenceValue]) {
        try c.run(seed: UInt64(c.name.utf8.count * 31 + c.height * 7 + c.width), bias: bias, residual: residual,
                  activation: activation, threads: threads) { weights, bias, g in
            try Conv2D(weights: weights, bias: bias, geometry: g, isa: isa)
        }
    }

    func testEveryGeometryAgainstDirectConvolution() throws {
        for isa in KernelISA.available {
            for c in Self.cases {
                let result = try run(c, isa: isa, bias: true, residual: false, activation: .none, threads: 1)
                if let message = contractMismatch(result.got, result.reference) {
                    XCTFail("\(isa) \(c.name): \(message)")
                }
            }
        }
    }

    func testEpiloguesOnEveryPath() throws {
        let activations: [Activation] = [.none, .relu, .clip(min: 0, max: 6), .clip(min: -0.3, max: 0.4)]
        let picks = Self.cases.filter { ["3x3 same batch 3", "1x1 pointwise batch 3", "depthwise 3x3 s2 tf pads", "depthwise 5x5 s1", "groups 3 batch 3",
                                              "depthwise 21 channels at 7x7",
                                              "depthwise 3x3 s1 40 wide", "depthwise direct 5x5 s2 asymmetric pads",
                                              "depthwise direct 3x3 stride 3x1 width 5",
                                              "depthwise blocked 3x3 stride 2x1, 13 channels",
                                              "depthwise blocked 5x5 s1 14x14, 17 channels"].contains($0.name) }
        XCTAssertEqual(picks.count, 11)
        for isa in KernelISA.available {
            for c in picks {
                for bias in [false, true] {
                    for residual in [false, true] {
                        for activation in activations {
                            let result = try run(c, isa: isa, bias: bias, residual: residual, activation: activation, threads: 1)
                            if let message = contractMismatch(result.got, result.reference) {
                                XCTFail("\(isa) \(c.name) bias \(bias) residual \(residual) \(activation): \(message)")
                            }
                        }
                    }
                }
            }
        }
    }

    func testResidualMayBeTheOutputItself() throws {
        let geometries = [Self.geometry(4, 4, 3, 3, pads: (1, 1, 1, 1)), Self.geometry(4, 4, 3, 3, pads: (1, 1, 1, 1), groups: 4),
                          Self.geometry(4, 4, 1, 1), Self.geometry(40, 4, 3, 3, pads: (1, 1, 1, 1)),
                          // Depthwise: direct with a short last vector per row; blocked.
                          Self.geometry(4, 4, 3, 3, groups: 4),
                          Self.geometry(4, 4, 3, 3, stride: (2, 2), pads: (1, 1, 1, 1), groups: 4)]
        for isa in KernelISA.available {
            for geometry in geometries {
                // Batch 4 at two threads takes the whole-image split of the shifted path.
                for batch in [1, 4] {
                    var random = SeededValues(seed: 11)
                    let weights = random.array(try geometry.weightCount())
                    let input = random.array(batch * geometry.inputChannels * 6 * 40)
                    let (oh, ow) = try Conv2D.outputSize(geometry: geometry, inputHeight: 6, inputWidth: 40)
                    let initial = random.array(batch * 4 * oh * ow)
                    let conv = try Conv2D(weights: weights, bias: nil, geometry: geometry, isa: isa)
                    var output = initial
                    try output.withUnsafeMutableBufferPointer { out in
                        try conv.run(input: input, batch: batch, inputHeight: 6, inputWidth: 40, output: out.baseAddress!,
                                     residual: UnsafePointer(out.baseAddress!), activation: .relu, threads: 2)
                    }
                    let reference = try referenceConv(geometry, batch: batch, height: 6, width: 40, input: input, weights: weights,
                                                      bias: nil, residual: initial, activation: .relu)
                    if let message = contractMismatch(output, reference) {
                        XCTFail("\(isa) in-place residual, batch \(batch), \(geometry.inputChannels) in, groups \(geometry.groups), stride \(geometry.strideWidth), \(oh)x\(ow) out: \(message)")
                    }
                }
            }
        }
    }

    func testThreadCountDoesNotChangeAnyBit() throws {
        let shapes: [Case] = [
            Case(name: "many channels", geometry: Self.geometry(32, 70, 3, 3, pads: (1, 1, 1, 1)), height: 9, width: 9),
            Case(name: "wide", geometry: Self.geometry(8, 16, 3, 3, stride: (2, 2), pads: (1, 1, 1, 1)), height: 40, width: 60, batch: 3),
            Case(name: "pointwise", geometry: Self.geometry(24, 40, 1, 1), height: 14, width: 14, batch: 3),
            Case(name: "depthwise", geometry: Self.geometry(24, 24, 3, 3, pads: (1, 1, 1, 1), groups: 24), height: 14, width: 14, batch: 3),
            Case(name: "depthwise 40 wide", geometry: Self.geometry(20, 20, 3, 3, pads: (1, 1, 1, 1), groups: 20), height: 60, width: 40, batch: 3),
            Case(name: "grouped", geometry: Self.geometry(8, 8, 3, 3, pads: (1, 1, 1, 1), groups: 2), height: 10, width: 10, batch: 3),
            Case(name: "shifted, whole images per thread", geometry: Self.geometry(8, 20, 3, 3, pads: (1, 1, 1, 1)), height: 20, width: 23, batch: 7),
            Case(name: "shifted 7x7 s2 grouped, whole images per thread", geometry: Self.geometry(4, 6, 7, 7, stride: (2, 2), pads: (3, 2, 3, 3), groups: 2), height: 40, width: 45, batch: 6),
            Case(name: "pointwise K=16 large N", geometry: Self.geometry(16, 40, 1, 1), height: 112, width: 112, batch: 3),
            Case(name: "depthwise s2 112", geometry: Self.geometry(12, 12, 3, 3, stride: (2, 2), pads: (1, 1, 1, 1), groups: 12), height: 112, width: 112, batch: 3),
            Case(name: "depthwise blocked s2, 21 channels", geometry: Self.geometry(21, 21, 3, 3, stride: (2, 2), pads: (1, 1, 1, 1), groups: 21), height: 14, width: 14, batch: 3),
            Case(name: "depthwise direct 5x5 s2", geometry: Self.geometry(13, 13, 5, 5, stride: (2, 2), pads: (2, 2, 2, 2), groups: 13), height: 20, width: 70),
        ]
        for isa in KernelISA.available {
            for c in shapes {
                let one = try run(c, isa: isa, bias: true, residual: true, activation: .relu, threads: 1).got
                let two = try run(c, isa: isa, bias: true, residual: true, activation: .relu, threads: 2).got
                let three = try run(c, isa: isa, bias: true, residual: true, activation: .relu, threads: 3).got
                XCTAssertEqual(one, two, "\(isa) \(c.name): 1 vs 2 threads")
                XCTAssertEqual(one, three, "\(isa) \(c.name): 1 vs 3 threads")
            }
        }
    }

    /// Batches of two or more images per thread take the whole-image split of the shifted path
    /// (strips of 1,024 virtual columns: 60×70 outputs make four).
    func testWholeImageSplitAgainstDirectConvolution() throws {
        let cases = [
            Case(name: "3x3 batch 5", geometry: Self.geometry(6, 30, 3, 3, pads: (1, 1, 1, 1)), height: 60, width: 70, batch: 5),
            Case(name: "5x5 s2 dilated grouped batch 4", geometry: Self.geometry(4, 6, 5, 5, stride: (2, 2), pads: (2, 1, 2, 3), dilation: (1, 2), groups: 2), height: 17, width: 23, batch: 4),
        ]
        for isa in KernelISA.available {
            for c in cases {
                XCTAssertEqual(try Conv2D(weights: [Float](repeating: 0, count: try c.geometry.weightCount()), bias: nil, geometry: c.geometry).path, .shifted)
                for residual in [false, true] {
                    let result = try run(c, isa: isa, bias: true, residual: residual, activation: .clip(min: -0.5, max: 0.7), threads: 2)
                    if let message = contractMismatch(result.got, result.reference) {
                        XCTFail("\(isa) \(c.name) residual \(residual): \(message)")
                    }
                }
            }
        }
    }

    /// More images than the worker pool has parts (255): every image is still computed.
    func testWholeImageSplitBeyondThePoolsPartLimit() throws {
        let c = Case(name: "3x3 batch 300", geometry: Self.geometry(2, 3, 3, 3, pads: (1, 1, 1, 1)), height: 4, width: 5, batch: 300)
        for threads in [1, 2] {
            let result = try run(c, isa: .selected, bias: true, residual: false, activation: .none, threads: threads)
            if let message = contractMismatch(result.got, result.reference) {
                XCTFail("\(c.name), \(threads) threads: \(message)")
            }
        }
    }

    func testPathChoice() throws {
        XCTAssertEqual(try Conv2D(weights: [Float](repeating: 0, count: 6), bias: nil, geometry: Self.geometry(3, 2, 1, 1)).path, .pointwise)
        XCTAssertEqual(try Conv2D(weights: [Float](repeating: 0, count: 54), bias: nil, geometry: Self.geometry(3, 2, 3, 3, pads: (1, 1, 1, 1))).path, .shifted)
        XCTAssertEqual(try Conv2D(weights: [Float](repeating: 0, count: 54), bias: nil, geometry: Self.geometry(3, 2, 3, 3, stride: (2, 2))).path, .im2col)
        XCTAssertEqual(try Conv2D(weights: [Float](repeating: 0, count: 294), bias: nil, geometry: Self.geometry(3, 2, 7, 7, stride: (2, 2))).path, .shifted)
        XCTAssertEqual(try Conv2D(weights: [Float](repeating: 0, count: 54), bias: nil, geometry: Self.geometry(3, 2, 3, 3, stride: (9, 2))).path, .im2col)
        XCTAssertEqual(try Conv2D(weights: [Float](repeating: 0, count: 27), bias: nil, geometry: Self.geometry(3, 3, 3, 3, groups: 3)).path, .depthwise)
        XCTAssertEqual(try Conv2D(weights: [Float](repeating: 0, count: 6), bias: nil, geometry: Self.geometry(3, 2, 1, 1, stride: (2, 2))).path, .im2col)
        XCTAssertEqual(try Conv2D(weights: [Float](repeating: 0, count: 27), bias: nil, geometry: Self.geometry(3, 3, 3, 3, stride: (5, 4), groups: 3)).path, .im2col)
    }

    func testInvalidInputsThrow() {
        let g = Self.geometry(3, 2, 3, 3)
        XCTAssertThrowsError(try Conv2D(weights: [1, 2], bias: nil, geometry: g))
        XCTAssertThrowsError(try Conv2D(weights: [Float](repeating: 0, count: 54), bias: [1], geometry: g))
        XCTAssertThrowsError(try Conv2D(weights: [], bias: nil, geometry: Self.geometry(3, 2, 3, 3, groups: 2)))
        XCTAssertThrowsError(try Conv2D(weights: [], bias: nil, geometry: Self.geometry(3, 2, 0, 3)))
        XCTAssertThrowsError(try Conv2D(weights: [], bias: nil, geometry: Self.geometry(3, 2, 3, 3, stride: (0, 1))))
        XCTAssertThrowsError(try Conv2D(weights: [], bias: nil, geometry: Self.geometry(Int.max, 2, 3, 3)))
        XCTAssertThrowsError(try g.outputSize(inputHeight: 2, inputWidth: 5))
        XCTAssertThrowsError(try g.outputSize(inputHeight: 0, inputWidth: 5))
        XCTAssertThrowsError(try g.outputSize(inputHeight: Int.max, inputWidth: 5))
        guard let conv = try? Conv2D(weights: [Float](repeating: 0, count: 54), bias: nil, geometry: g) else {
            return XCTFail("valid conv rejected")
        }
        var output: [Float] = [0]
        XCTAssertThrowsError(try conv.run(input: [0], batch: 1, inputHeight: 1, inputWidth: 1, output: &output,
                                          residual: nil, activation: .none, threads: 1))
        XCTAssertThrowsError(try conv.run(input: [0], batch: -1, inputHeight: 3, inputWidth: 3, output: &output,
                                          residual: nil, activation: .none, threads: 1))
    }

    func testOutputSize() throws {
        let stem = Self.geometry(3, 64, 7, 7, stride: (2, 2), pads: (3, 3, 3, 3))
        XCTAssertTrue(try stem.outputSize(inputHeight: 224, inputWidth: 224) == (112, 112))
        let tfSame = Self.geometry(3, 3, 3, 3, stride: (2, 2), pads: (0, 0, 1, 1))
        XCTAssertTrue(try tfSame.outputSize(inputHeight: 224, inputWidth: 223) == (112, 111))
    }
}
