import Linalg
import XCTest

/// The pixel-rows path (output pixels as GEMM rows, several images stacked) against the direct
/// convolution, and bit for bit against the channel-rows paths it replaces on small planes.
final class ConvPixelRowsTests: XCTestCase {
    private typealias Case = ConvCase

    private static func geometry(_ cin: Int, _ cout: Int, _ kh: Int, _ kw: Int, stride: (Int, Int) = (1, 1),
                                 pads: (Int, Int, Int, Int) = (0, 0, 0, 0), dilation: (Int, Int) = (1, 1)) -> ConvGeometry {
        ConvGeometry(inputChannels: cin, outputChannels: cout, kernelHeight: kh, kernelWidth: kw,
                     strideHeight: stride.0, strideWidth: stride.1, padTop: pads.0, padLeft: pads.1,
                     padBottom: pads.2, padRight: pads.3, dilationHeight: dilation.0, dilationWidth: dilation.1,
                     groups: 1)
    }

    private static let cases: [Case] = [
        Case(name: "3x3 at 7x7 (resnet18 layer4 shape, fewer channels)", geometry: geometry(40, 70, 3, 3, pads: (1, 1, 1, 1)), height: 7, width: 7, batch: 1),
        Case(name: "3x3 at 7x7 batch 5", geometry: geometry(24, 33, 3, 3, pads: (1, 1, 1, 1)), height: 7, width: 7, batch: 5),
        Case(name: "3x3 at 14x14 deep (several depth blocks)", geometry: geometry(64, 40, 3, 3, pads: (1, 1, 1, 1)), height: 14, width: 14, batch: 2),
        Case(name: "3x3 stride 2 to 7x7", geometry: geometry(16, 64, 3, 3, stride: (2, 2), pads: (1, 1, 1, 1)), height: 14, width: 14, batch: 3),
        Case(name: "2x2 stride 2", geometry: geometry(16, 40, 2, 2, stride: (2, 2)), height: 13, width: 14, batch: 3),
        Case(name: "1x1 pointwise at 7x7", geometry: geometry(30, 50, 1, 1), height: 7, width: 7, batch: 4),
        Case(name: "1x1 pointwise, one pixel", geometry: geometry(30, 20, 1, 1), height: 1, width: 1, batch: 3),
        Case(name: "5x5 dilated stride 2x1 asymmetric pads", geometry: geometry(5, 9, 5, 5, stride: (2, 1), pads: (2, 1, 2, 3), dilation: (1, 2)), height: 11, width: 9, batch: 3),
        Case(name: "7x7 stride 2 stem", geometry: geometry(3, 16, 7, 7, stride: (2, 2), pads: (3, 3, 3, 3)), height: 23, width: 21, batch: 2),
        Case(name: "1-wide output rows", geometry: geometry(6, 17, 3, 3, pads: (1, 0, 1, 0)), height: 9, width: 3, batch: 3),
        Case(name: "wider than a tile", geometry: geometry(4, 35, 3, 3, pads: (1, 1, 1, 1)), height: 3, width: 40, batch: 2),
    ]

    private func run(_ c: Case, isa: KernelISA, pixelRows: Conv2D.PixelRowsChoice, residual: Bool,
                     activation: Activation, threads: Int) throws -> (got: [Float], reference: [ReferenceValue]) {
        try c.run(seed: UInt64(c.name.utf8.count * 17 + c.batch), residual: residual, activation: activation,
                  threads: threads) { weights, bias, g in
            try Conv2D(weights: weights, bias: bias, geometry: g, isa: isa, pixelRows: pixelRows)
        }
    }

    func testAgainstDirectConvolutionAndOtherPaths() throws {
        for isa in KernelISA.available {
            for c in Self.cases {
                for residual in [false, true] {
                    let activation: Activation = residual ? .relu : .clip(min: -0.3, max: 0.4)
                    let rows = try run(c, isa: isa, pixelRows: .always, residual: residual, activation: activation, threads: 1)
                    if let message = contractMismatch(rows.got, rows.reference) {
                        XCTFail("\(isa) \(c.name) residual \(residual): \(message)")
                    }
                    let channels = try run(c, isa: isa, pixelRows: .never, residual: residual, activation: activation, threads: 1)
                    XCTAssertEqual(rows.got, channels.got, "\(isa) \(c.name) residual \(residual): pixel rows vs channel rows")
                }
            }
        }
    }

    /// One thread, two (columns split at batch 1, rows split otherwise) and three give the same bits.
    func testThreadCountDoesNotChangeAnyBit() throws {
        for isa in KernelISA.available {
            for c in Self.cases {
                let one = try run(c, isa: isa, pixelRows: .always, residual: true, activation: .relu, threads: 1).got
                for threads in [2, 3] {
                    let many = try run(c, isa: isa, pixelRows: .always, residual: true, activation: .relu, threads: threads).got
                    XCTAssertEqual(one, many, "\(isa) \(c.name): 1 vs \(threads) threads")
                }
            }
        }
    }

    func testResidualMayBeTheOutputItself() throws {
        let g = Self.geometry(20, 24, 3, 3, pads: (1, 1, 1, 1))
        for isa in KernelISA.available {
            for (batch, threads) in [(1, 2), (6, 2), (3, 1)] {
                var random = SeededValues(seed: 5)
                let weights = random.array(try g.weightCount())
                let input = random.array(batch * 20 * 7 * 7)
                let initial = random.array(batch * 24 * 7 * 7)
                let conv = try Conv2D(weights: weights, bias: nil, geometry: g, isa: isa, pixelRows: .always)
                var output = initial
                try output.withUnsafeMutableBufferPointer { out in
                    try conv.run(input: input, batch: batch, inputHeight: 7, inputWidth: 7, output: out.baseAddress!,
                                 residual: UnsafePointer(out.baseAddress!), activation: .relu, threads: threads)
                }
                let reference = try referenceConv(g, batch: batch, height: 7, width: 7, input: input, weights: weights,
                                                  bias: nil, residual: initial, activation: .relu)
                if let message = contractMismatch(output, reference) {
                    XCTFail("\(isa) in-place residual, batch \(batch), \(threads) threads: \(message)")
                }
            }
        }
    }
}
