import Dispatch
import Foundation
import Linalg
import XCTest

/// Timings, not checks: run with WEAKSPOT_BENCH=1 (skipped otherwise). The figures are quoted
/// in docs/kernels.md next to numpy's (Tests/Benchmarks/gemm_numpy.py) from the same sitting.
final class LinalgBenchmarkTests: XCTestCase {
    private var enabled: Bool { ProcessInfo.processInfo.environment["WEAKSPOT_BENCH"] != nil }

    func testGEMMThroughput() throws {
        try XCTSkipUnless(enabled, "set WEAKSPOT_BENCH=1 to time")
        for isa in KernelISA.available {
            for threads in [1, 2] {
                let gflops = LinalgBenchmark.benchmarkGEMM(size: 1024, threads: threads, repetitions: 9, isa: isa)
                print("gemm 1024^3 \(isa) threads \(threads): \(String(format: "%.1f", gflops)) GFLOP/s")
            }
        }
    }

    func testModelConvolutions() throws {
        try XCTSkipUnless(enabled, "set WEAKSPOT_BENCH=1 to time")
        for threads in [1, 2] {
            for (name, layers) in [("resnet18", ModelShapes.resnet18), ("mobilenet_v2", ModelShapes.mobilenetV2)] {
                let ms = try time(layers: layers, threads: threads)
                print("\(name) convolutions, batch 1, \(threads) threads: \(String(format: "%.2f", ms)) ms (\(layers.count) convs, \(KernelISA.selected))")
            }
        }
    }

    /// Sum over layers of the median time of each layer's Conv2D.run.
    private func time(layers: [(ConvGeometry, Int)], threads: Int) throws -> Double {
        var total = 0.0
        var random = SeededValues(seed: 3)
        for (geometry, size) in layers {
            let conv = try Conv2D(weights: random.array(try geometry.weightCount()), bias: random.array(geometry.outputChannels),
                                  geometry: geometry)
            let (oh, ow) = try geometry.outputSize(inputHeight: size, inputWidth: size)
            let input = random.array(geometry.inputChannels * size * size)
            var output = [Float](repeating: 0, count: geometry.outputChannels * oh * ow)
            var samples: [Double] = []
            for round in 0..<12 {
                let start = DispatchTime.now().uptimeNanoseconds
                try conv.run(input: input, batch: 1, inputHeight: size, inputWidth: size, output: &output,
                             residual: nil, activation: .relu, threads: threads)
                if round > 1 { samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6) }
            }
            samples.sort()
            total += samples[samples.count / 2]
        }
        return total
    }
}

/// The convolutions of torchvision's resnet18 and mobilenet_v2 at 224×224, batch 1:
/// (geometry, input height = width).
enum ModelShapes {
    static func conv(_ cin: Int, _ cout: Int, _ k: Int, stride: Int = 1, groups: Int = 1) -> ConvGeometry {
        let pad = k / 2
        return ConvGeometry(inputChannels: cin, outputChannels: cout, kernelHeight: k, kernelWidth: k,
                            strideHeight: stride, strideWidth: stride, padTop: pad, padLeft: pad, padBottom: pad,
                            padRight: pad, groups: groups)
    }

    static let resnet18: [(ConvGeometry, Int)] = {
        var layers: [(ConvGeometry, Int)] = [(conv(3, 64, 7, stride: 2), 224)]
        var size = 56, channels = 64
        for (stage, width) in [64, 128, 256, 512].enumerated() {
            for block in 0..<2 {
                let stride = stage > 0 && block == 0 ? 2 : 1
                layers.append((conv(channels, width, 3, stride: stride), size))
                let outSize = stride == 2 ? size / 2 : size
                layers.append((conv(width, width, 3), outSize))
                if stride == 2 || channels != width { layers.append((conv(channels, width, 1, stride: stride), size)) }
                channels = width
                size = outSize
            }
        }
        return layers
    }()

    static let mobilenetV2: [(ConvGeometry, Int)] = {
        var layers: [(ConvGeometry, Int)] = [(conv(3, 32, 3, stride: 2), 224)]
        var size = 112, channels = 32
        let settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
        for (expansion, width, repeats, firstStride) in settings {
            for r in 0..<repeats {
                let stride = r == 0 ? firstStride : 1
                let hidden = channels * expansion
                if expansion != 1 { layers.append((conv(channels, hidden, 1), size)) }
                layers.append((conv(hidden, hidden, 3, stride: stride, groups: hidden), size))
                size = stride == 2 ? (size + 1) / 2 : size
                layers.append((conv(hidden, width, 1), size))
                channels = width
            }
        }
        layers.append((conv(channels, 1280, 1), size))
        return layers
    }()
}
