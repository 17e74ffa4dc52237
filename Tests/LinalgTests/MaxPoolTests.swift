import Linalg
import TestSupport
import XCTest

final class MaxPoolTests: XCTestCase {
    /// A float32 little-endian C-order `.npy` file (version 1 or 2 header).
    private func loadNPY(_ relative: String) throws -> [Float] {
        let bytes = try FixturePaths.data(relative)
        guard bytes.count >= 12, bytes[0] == 0x93, bytes[6] == 1 || bytes[6] == 2 else {
            throw LinalgError("\(relative): expected an npy file")
        }
        let headerLength = bytes[6] == 1 ? Int(bytes[8]) | Int(bytes[9]) << 8
            : Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        let start = (bytes[6] == 1 ? 10 : 12) + headerLength
        let header = String(decoding: bytes[(bytes[6] == 1 ? 10 : 12)..<min(start, bytes.count)], as: UTF8.self)
        guard header.contains("<f4"), !header.contains("'fortran_order': True"), (bytes.count - start) % 4 == 0 else {
            throw LinalgError("\(relative): expected float32 C order, got \(header)")
        }
        return stride(from: start, to: bytes.count, by: 4).map { i in
            Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
        }
    }

    /// ONNX Runtime's outputs (Fixtures/ops, made by Fixtures/scripts/make_ops.py; attributes
    /// copied from that script). Max pooling is exact, so the values must match exactly.
    func testAgainstONNXRuntimeFixtures() throws {
        let cases: [(name: String, planes: Int, size: (Int, Int), out: (Int, Int), pool: MaxPool2D)] = [
            ("maxpool_3x3_s2_p1", 6, (10, 10), (5, 5), try MaxPool2D(kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2, padTop: 1, padLeft: 1)),
            ("maxpool_ceil", 6, (8, 8), (4, 4), try MaxPool2D(kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2)),
            ("maxpool_dilations", 3, (9, 9), (5, 5), try MaxPool2D(kernelHeight: 3, kernelWidth: 3, dilationHeight: 2, dilationWidth: 2)),
        ]
        for c in cases {
            let input = try loadNPY("ops/\(c.name)/input_0.npy")
            let expected = try loadNPY("ops/\(c.name)/output_0.npy")
            XCTAssertEqual(input.count, c.planes * c.size.0 * c.size.1, c.name)
            for threads in [1, 2, 3] {
                var output = [Float](repeating: .nan, count: expected.count)
                try c.pool.run(input: input, planes: c.planes, inputHeight: c.size.0, inputWidth: c.size.1,
                               output: &output, outputHeight: c.out.0, outputWidth: c.out.1, threads: threads)
                XCTAssertEqual(output, expected, "\(c.name) threads \(threads)")
            }
        }
    }

    /// The naive definition (skip taps outside the plane, `v >= best ? v : best` in row-major tap
    /// order) on geometries the fixtures do not cover: asymmetric strides and dilations, pads
    /// wider than the window's reach, windows that never touch the input, large planes.
    func testAgainstNaiveDefinition() throws {
        let cases: [(planes: Int, size: (Int, Int), out: (Int, Int), pool: MaxPool2D)] = [
            (32, (112, 112), (56, 56), try MaxPool2D(kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2, padTop: 1, padLeft: 1)),
            (3, (13, 17), (6, 9), try MaxPool2D(kernelHeight: 2, kernelWidth: 4, strideHeight: 2, strideWidth: 3, padTop: 0, padLeft: 5, dilationHeight: 1, dilationWidth: 2)),
            (2, (5, 6), (7, 8), try MaxPool2D(kernelHeight: 1, kernelWidth: 1, padTop: 1, padLeft: 1)),
            (4, (9, 40), (9, 40), try MaxPool2D(kernelHeight: 3, kernelWidth: 5, padTop: 1, padLeft: 2)),
        ]
        var random = SeededValues(seed: 5)
        for (index, c) in cases.enumerated() {
            var input = random.array(c.planes * c.size.0 * c.size.1)
            input[3] = .nan
            let p = c.pool
            var expected = [Float](repeating: 0, count: c.planes * c.out.0 * c.out.1)
            for plane in 0..<c.planes {
                for y in 0..<c.out.0 {
                    for x in 0..<c.out.1 {
                        var best = -Float.infinity
                        for ky in 0..<p.kernelHeight {
                            let iy = y * p.strideHeight - p.padTop + ky * p.dilationHeight
                            guard iy >= 0, iy < c.size.0 else { continue }
                            for kx in 0..<p.kernelWidth {
                                let ix = x * p.strideWidth - p.padLeft + kx * p.dilationWidth
                                guard ix >= 0, ix < c.size.1 else { continue }
                                let v = input[(plane * c.size.0 + iy) * c.size.1 + ix]
                                best = v >= best ? v : best
                            }
                        }
                        expected[(plane * c.out.0 + y) * c.out.1 + x] = best
                    }
                }
            }
            for threads in [1, 2, 3] {
                var output = [Float](repeating: .nan, count: expected.count)
                try p.run(input: input, planes: c.planes, inputHeight: c.size.0, inputWidth: c.size.1,
                          output: &output, outputHeight: c.out.0, outputWidth: c.out.1, threads: threads)
                XCTAssertEqual(output.map(\.bitPattern), expected.map(\.bitPattern), "case \(index) threads \(threads)")
            }
        }
    }

    func testInvalidArgumentsThrow() throws {
        XCTAssertThrowsError(try MaxPool2D(kernelHeight: 0, kernelWidth: 3))
        XCTAssertThrowsError(try MaxPool2D(kernelHeight: 3, kernelWidth: 3, strideHeight: 0))
        XCTAssertThrowsError(try MaxPool2D(kernelHeight: 3, kernelWidth: 3, padLeft: -1))
        XCTAssertThrowsError(try MaxPool2D(kernelHeight: 3, kernelWidth: 3, dilationWidth: 0))
        XCTAssertThrowsError(try MaxPool2D(kernelHeight: Int.max, kernelWidth: 3))
        let pool = try MaxPool2D(kernelHeight: 3, kernelWidth: 3, strideHeight: 1 << 29, strideWidth: 1)
        var output: [Float] = [0]
        XCTAssertThrowsError(try pool.run(input: [0], planes: -1, inputHeight: 1, inputWidth: 1, output: &output,
                                          outputHeight: 1, outputWidth: 1, threads: 1))
        XCTAssertThrowsError(try pool.run(input: [0], planes: 1, inputHeight: 0, inputWidth: 1, output: &output,
                                          outputHeight: 1, outputWidth: 1, threads: 1))
        XCTAssertThrowsError(try pool.run(input: [0], planes: 1, inputHeight: 1, inputWidth: 1, output: &output,
                                          outputHeight: Int.max / 4, outputWidth: 1, threads: 1))
    }
}
