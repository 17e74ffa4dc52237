import Linalg
import XCTest

/// The Winograd F(4×4, 3×3) path against the direct convolution in Double, at tile edges (output
/// sizes not a multiple of 4, tile rows not a multiple of 8 tiles, more than one block of 8
/// tiles, planes smaller than a tile), with asymmetric padding, every epilogue, several chunks,
/// and bit for bit across thread counts.
final class ConvWinogradTests: XCTestCase {
    private typealias Case = ConvCase

    private static func geometry(_ cin: Int, _ cout: Int, pads: (Int, Int, Int, Int) = (1, 1, 1, 1)) -> ConvGeometry {
        ConvGeometry(inputChannels: cin, outputChannels: cout, kernelHeight: 3, kernelWidth: 3,
                     padTop: pads.0, padLeft: pads.1, padBottom: pads.2, padRight: pads.3)
    }

    private static let cases: [Case] = [
        Case(name: "56x56-like plane, 14 tiles a row (two blocks of 8)", geometry: geometry(16, 24), height: 54, width: 54, batch: 1),
        Case(name: "odd plane 13x11 (partial tiles both ways)", geometry: geometry(17, 19), height: 13, width: 11, batch: 3),
        Case(name: "plane smaller than a tile", geometry: geometry(16, 16), height: 3, width: 2, batch: 4),
        Case(name: "one pixel", geometry: geometry(16, 18), height: 1, width: 1, batch: 2),
        Case(name: "no padding, 10x37 (output 8x35: 9 tiles a row)", geometry: geometry(20, 16, pads: (0, 0, 0, 0)), height: 10, width: 37, batch: 2),
        Case(name: "asymmetric padding (2, 0, 0, 2)", geometry: geometry(16, 21, pads: (2, 0, 0, 2)), height: 9, width: 14, batch: 2),
        Case(name: "wide row, 70 columns (3 blocks)", geometry: geometry(16, 17), height: 5, width: 70, batch: 1),
        Case(name: "several chunks across images", geometry: geometry(16, 16), height: 48, width: 40, batch: 8),
        Case(name: "deep reduction (several KC blocks)", geometry: geometry(300, 20), height: 6, width: 9, batch: 1),
    ]

    private func run(_ c: Case, isa: KernelISA, winograd: Conv2D.WinogradChoice, residual: Bool,
                     activation: Activation, threads: Int) throws -> (got: [Float], reference: [ReferenceValue]) {
        try c.run(seed: UInt64(c.name.utf8.count * 31 + c.batch), residual: residual, activation: activation,
                  threads: threads) { weights, bias, g in
            try Conv2D(weights: weights, bias: bias, geometry: g, isa: isa, winograd: winograd)
        }
    }

    func testEveryCaseIsEligible() throws {
        for c in Self.cases {
            let conv = try Conv2D(weights: [Float](repeating: 0, count: try c.geometry.weightCount()), bias: nil,
                                  geometry: c.geometry, winograd: .always)
            XCTAssertTrue(conv.winogradEligible, c.name)
        }
    }

    func testAgainstDirectConvolution() throws {
        for isa in KernelISA.available {
            for c in Self.cases {
                for (residual, activation) in [(false, Activation.none), (true, .relu), (false, .clip(min: -0.3, max: 0.4))] {
                    let got = try run(c, isa: isa, winograd: .always, residual: residual, activation: activation, threads: 2)
                    if let message = contractMismatch(got.got, got.reference) {
                        XCTFail("\(isa) \(c.name) residual \(residual) \(activation): \(message)")
                    }
                }
            }
        }
    }

    /// The worst error relative to the direct path stays well inside the contract: the
    /// transforms cost precision, not correctness (1.8e-6 here; asserted at half the bound).
    func testErrorIsAFractionOfTheContract() throws {
        let c = Self.cases[0]
        let got = try run(c, isa: .selected, winograd: .always, residual: false, activation: .none, threads: 1)
        var worst = 0.0
        for (a, r) in zip(got.got, got.reference) { worst = max(worst, abs(Double(a) - r.value) / r.magnitude) }
        XCTAssertLessThan(worst, dotProductTolerance / 2, "worst |error| / Σ|v·w| = \(worst)")
        XCTAssertGreaterThan(worst, 0, "Winograd's rounding differs from exact arithmetic somewhere")
    }

    /// Tiles or channels on the GEMMs' rows: the same FMA chains, so the same bits, on every case.
    func testBothGEMMOrientationsGiveTheSameBits() throws {
        for isa in KernelISA.available {
            for c in Self.cases {
                let rows = try run(c, isa: isa, winograd: .tilesAsRows, residual: true, activation: .relu, threads: 2)
                if let message = contractMismatch(rows.got, rows.reference) {
                    XCTFail("\(isa) \(c.name), tiles as rows: \(message)")
                }
                let columns = try run(c, isa: isa, winograd: .channelsAsRows, residual: true, activation: .relu, threads: 2)
                XCTAssertEqual(rows.got, columns.got, "\(isa) \(c.name): tiles as rows vs channels as rows")
            }
        }
    }

    func testThreadCountDoesNotChangeAnyBit() throws {
        for isa in KernelISA.available {
            for c in Self.cases {
                let one = try run(c, isa: isa, winograd: .always, residual: true, activation: .relu, threads: 1).got
                for threads in [2, 3] {
                    let many = try run(c, isa: isa, winograd: .always, residual: true, activation: .relu, threads: threads).got
                    XCTAssertEqual(one, many, "\(isa) \(c.name): 1 vs \(threads) threads")
                }
            }
        }
    }

    func testResidualMayBeTheOutputItself() throws {
        let g = Self.geometry(20, 24)
        for isa in KernelISA.available {
            for (batch, threads) in [(1, 2), (6, 2), (3, 1)] {
                var random = SeededValues(seed: 7)
                let weights = random.array(try g.weightCount())
                let input = random.array(batch * 20 * 9 * 10)
                let initial = random.array(batch * 24 * 9 * 10)
                let conv = try Conv2D(weights: weights, bias: nil, geometry: g, isa: isa, winograd: .always)
                var output = initial
                try output.withUnsafeMutableBufferPointer { out in
                    try conv.run(input: input, batch: batch, inputHeight: 9, inputWidth: 10, output: out.baseAddress!,
                                 residual: UnsafePointer(out.baseAddress!), activation: .relu, threads: threads)
                }
                let reference = try referenceConv(g, batch: batch, height: 9, width: 10, input: input, weights: weights,
                                                  bias: nil, residual: initial, activation: .relu)
                if let message = contractMismatch(output, reference) {
                    XCTFail("\(isa) in-place residual, batch \(batch), \(threads) threads: \(message)")
                }
            }
        }
    }

    /// An image gives the same bits alone or in a batch, on and off the path (3×3 stays direct;
    /// 7×7 puts tiles on the GEMMs' rows, 14×14 channels; whatever the batch).
    func testAnImagesBitsDoNotDependOnItsBatch() throws {
        for (size, winograd) in [(3, false), (7, true), (14, true)] {
            let choice: Conv2D.WinogradChoice = .includingSmallPlanes
            let g = Self.geometry(32, 48)
            var random = SeededValues(seed: UInt64(size))
            let weights = random.array(try g.weightCount())
            let batch = 5, plane = 32 * size * size, outPlane = 48 * size * size
            let input = random.array(batch * plane)
            let conv = try Conv2D(weights: weights, bias: nil, geometry: g, winograd: choice)
            XCTAssertEqual(conv.usesWinograd(outputHeight: size, outputWidth: size), winograd)
            var all = [Float](repeating: .nan, count: batch * outPlane)
            try all.withUnsafeMutableBufferPointer { out in
                try conv.run(input: input, batch: batch, inputHeight: size, inputWidth: size, output: out.baseAddress!,
                             residual: nil, activation: .none, threads: 2)
            }
            for image in [0, 3] {
                var one = [Float](repeating: .nan, count: outPlane)
                try input.withUnsafeBufferPointer { x in
                    try one.withUnsafeMutableBufferPointer { out in
                        try conv.run(input: x.baseAddress! + image * plane, batch: 1, inputHeight: size, inputWidth: size,
                                     output: out.baseAddress!, residual: nil, activation: .none, threads: 2)
                    }
                }
                XCTAssertEqual(one, Array(all[image * outPlane ..< (image + 1) * outPlane]), "\(size)×\(size) image \(image)")
            }
        }
    }

    /// Which calls take the path: eligible geometry, and enough tiles in one image (never the
    /// batch, so an image's bits do not depend on its batch).
    func testPathChoice() throws {
        func conv(_ g: ConvGeometry, _ choice: Conv2D.WinogradChoice = .automatic) throws -> Conv2D {
            try Conv2D(weights: [Float](repeating: 0, count: try g.weightCount()), bias: nil, geometry: g, winograd: choice)
        }
        let resnet = Self.geometry(64, 64)
        XCTAssertTrue(try conv(resnet).usesWinograd(outputHeight: 56, outputWidth: 56))
        XCTAssertTrue(try conv(Self.geometry(256, 256)).usesWinograd(outputHeight: 14, outputWidth: 14))
        XCTAssertTrue(try conv(Self.geometry(256, 256)).usesWinograd(outputHeight: 13, outputWidth: 13), "16 tiles")
        XCTAssertFalse(try conv(Self.geometry(512, 512)).usesWinograd(outputHeight: 7, outputWidth: 7), "4 tiles")
        XCTAssertTrue(try conv(Self.geometry(512, 512), .includingSmallPlanes).usesWinograd(outputHeight: 7, outputWidth: 7))
        XCTAssertFalse(try conv(Self.geometry(512, 512), .includingSmallPlanes).usesWinograd(outputHeight: 3, outputWidth: 3),
                       "1 tile for 9 pixels")
        XCTAssertFalse(try conv(Self.geometry(64, 64)).usesWinograd(outputHeight: 1, outputWidth: 64),
                       "16 tiles, but three quarters of each tile's rows wasted")
        XCTAssertFalse(try conv(resnet, .never).usesWinograd(outputHeight: 56, outputWidth: 56))
        var strided = resnet
        strided.strideHeight = 2; strided.strideWidth = 2
        XCTAssertFalse(try conv(strided, .always).winogradEligible)
        var dilated = resnet
        dilated.dilationHeight = 2
        XCTAssertFalse(try conv(dilated, .always).winogradEligible)
        XCTAssertFalse(try conv(Self.geometry(3, 64), .always).winogradEligible, "3 input channels")
        var grouped = resnet
        grouped.groups = 2
        XCTAssertFalse(try conv(grouped, .always).winogradEligible)
    }
}
