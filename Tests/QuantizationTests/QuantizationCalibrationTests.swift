import DataInput
import Foundation
@testable import Quantization
import TestSupport
import XCTest

/// Our activation calibrators against ONNX Runtime 1.32's on the same batches in the same order
/// (Fixtures/calibration, made by Fixtures/scripts/make_calibration_fixtures.py: real tiny_mobilenet
/// activations and synthetic heavy-tailed, post-ReLU, constant, all-zero, growing and shrinking
/// ones). Every (rmin, rmax) must equal ORT's bit for bit: the histogram calibrators reproduce
/// numpy's float32 edge arithmetic, so no tolerance is needed. (The one known source of
/// difference, numpy's SIMD float32 log inside the KL divergence, changes the last bits of a
/// divergence, which would matter only if two entropy windows tied to within them; none does here.)
final class QuantizationCalibrationTests: XCTestCase {
    struct Expected: Decodable {
        struct Range: Decodable { let range: [Double]; let bits: [UInt32] }
        struct Case: Decodable {
            let batches: [String]
            let sizes: [Int]
            let minmax, percentile, percentileAsymmetric, entropy: Range
            let minmaxWhole, percentileWhole, entropyWhole: Range?
        }
        struct Divergence: Decodable { let p: [Int64]; let q: [Int64]; let divergence: Double; let bits: UInt32 }
        let onnxruntime: String
        let cases: [String: Case]
        let divergences: [Divergence]
    }

    static func expected() throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: FixturePaths.url("calibration/expected.json")))
    }

    static func batches(_ entry: Expected.Case) throws -> [[Float]] {
        try entry.batches.map { name in
            let reader = try NPYFileReader(path: FixturePaths.path("calibration/" + name))
            return try reader.read(items: 0..<reader.items).floats()
        }
    }

    /// Feeds `batches` to a fresh calibrator, one `add` each, and compares its range with ORT's.
    /// Returns the largest relative difference of the two ends (0 when equal), for the record.
    @discardableResult
    func check(_ label: String, _ make: () -> any ActivationCalibrator, _ batches: [[Float]], _ reference: Expected.Range,
               file: StaticString = #filePath, line: UInt = #line) -> Double {
        var calibrator = make()
        for batch in batches { calibrator.add(batch) }
        let (low, high) = calibrator.range()
        XCTAssertEqual([low.bitPattern, high.bitPattern], reference.bits,
                       "\(label): got (\(low), \(high)), onnxruntime (\(reference.range[0]), \(reference.range[1]))",
                       file: file, line: line)
        return zip([low, high], reference.range).map { got, want in
            got == Float(want) ? 0 : abs(Double(got) - want) / max(abs(want), Double(Float.leastNormalMagnitude))
        }.max()!
    }

    /// Every case through one calibrator kind, batch by batch; prints the largest relative
    /// difference (the figure docs/quantization.md quotes).
    func checkAllCases(_ name: String, _ make: () -> any ActivationCalibrator,
                       _ reference: (Expected.Case) -> Expected.Range) throws {
        let expected = try Self.expected()
        XCTAssertGreaterThanOrEqual(expected.cases.count, 10, "fixture cases")
        var worst = 0.0
        for (label, entry) in expected.cases.sorted(by: { $0.key < $1.key }) {
            let batches = try Self.batches(entry)
            XCTAssertEqual(batches.map(\.count), entry.sizes, "\(label): batch sizes")
            worst = max(worst, check("\(name) \(label)", make, batches, reference(entry)))
        }
        print("\(name): \(expected.cases.count) cases, max relative difference vs onnxruntime \(expected.onnxruntime): \(worst)")
    }

    func testMinMaxEqualsOnnxRuntime() throws {
        try checkAllCases("minmax", { MinMaxCalibrator() }, \.minmax)
    }

    /// quantize_static's Percentile: symmetric |x| histogram, 2,048 bins, 99.999.
    func testPercentileEqualsOnnxRuntimeQuantizeStaticDefaults() throws {
        try checkAllCases("percentile", { CalibrationMethod.percentile.makeCalibrator() }, \.percentile)
    }

    /// PercentileCalibrater's class default (symmetric False): signed histogram over ±max|x|.
    func testAsymmetricPercentileEqualsOnnxRuntimeCollector() throws {
        try checkAllCases("percentile (asymmetric)", { PercentileCalibrator(symmetric: false) }, \.percentileAsymmetric)
    }

    func testEntropyEqualsOnnxRuntime() throws {
        try checkAllCases("entropy", { CalibrationMethod.entropy.makeCalibrator() }, \.entropy)
    }

    /// The smoothed KL divergence the entropy search minimises, against onnxruntime's
    /// entropy(smooth_distribution(p), smooth_distribution(q)), bit for bit (the window search
    /// above rarely depends on the last bits, so the arithmetic is checked here directly). The
    /// one operation not reproduced is numpy's float32 log, a SIMD polynomial on AVX2/AVX-512
    /// that differs from our correctly rounded log by up to 3 ulp for ~6% of random arguments;
    /// on these fixtures it gives the same sums. If the fixtures are regenerated on another
    /// machine and this fails by a few ulps, that is why.
    func testKLDivergenceMatchesOnnxRuntime() throws {
        let divergences = try Self.expected().divergences
        XCTAssertGreaterThanOrEqual(divergences.count, 5)
        var worst = 0.0, worstUlps = 0
        for (index, d) in divergences.enumerated() {
            let got = KLThresholdSearch.klDivergence(d.p, d.q)
            let want = Float(bitPattern: d.bits)
            let relative = abs(Double(got) - Double(want)) / abs(Double(want))
            worst = max(worst, relative)
            worstUlps = max(worstUlps, abs(Int(got.bitPattern) - Int(want.bitPattern)))
            XCTAssertEqual(got.bitPattern, d.bits, "divergence \(index) (\(d.p.count) bins): got \(got), onnxruntime \(want)")
        }
        print("KL divergence: \(divergences.count) cases, max relative difference vs onnxruntime \(worst) (\(worstUlps) ulp)")
    }

    /// quantize_static without CalibStridedMinMax gives all batches to one collect call: the
    /// same as one `add` of their concatenation.
    func testOneAddOfAllBatchesEqualsOnnxRuntimeSingleCollect() throws {
        var compared = 0
        for (label, entry) in try Self.expected().cases.sorted(by: { $0.key < $1.key }) {
            guard let minmax = entry.minmaxWhole, let percentile = entry.percentileWhole, let entropy = entry.entropyWhole else { continue }
            let whole = [try Self.batches(entry).flatMap { $0 }]
            check("minmax whole \(label)", { MinMaxCalibrator() }, whole, minmax)
            check("percentile whole \(label)", { PercentileCalibrator() }, whole, percentile)
            check("entropy whole \(label)", { EntropyCalibrator() }, whole, entropy)
            compared += 1
        }
        XCTAssertGreaterThanOrEqual(compared, 9, "cases with equal batch sizes")
    }

    /// The fixtures reach every merge branch, so the equalities above cover them: the signed
    /// histogram grows (bins added both sides) and restarts from an all-zero first batch, the
    /// absolute histogram is extended by arange and drops values below its first edge.
    func testFixturesExerciseEveryMergeBranch() throws {
        let cases = try Self.expected().cases
        func histograms(_ name: String, batches: Int = 3) throws -> (ValueHistogram, AbsoluteHistogram, droppedBelowFirstEdge: Int) {
            var value = ValueHistogram(bins: 128), absolute = AbsoluteHistogram(bins: 2048)
            var dropped = 0
            for batch in try Self.batches(try XCTUnwrap(cases[name], name)).prefix(batches) {
                if let first = absolute.edges.first { dropped += batch.filter { abs($0) < first }.count }
                batch.withUnsafeBufferPointer { value.add($0); absolute.add($0) }
            }
            return (value, absolute, dropped)
        }
        let growing = try histograms("growing_range")
        XCTAssertGreaterThan(growing.0.counts.count, 128, "signed histogram grew")
        XCTAssertGreaterThan(growing.1.counts.count, 2048, "absolute histogram extended")
        XCTAssertEqual(growing.0.counts.reduce(0, +), 18000, "every value counted once")
        let restarted = try histograms("zero_then_values", batches: 2)
        XCTAssertEqual(restarted.0.counts.count, 128, "old threshold 0: bins kept, range reset")
        XCTAssertGreaterThan(restarted.0.threshold, 0)
        let shrinking = try histograms("shrinking_range")
        XCTAssertGreaterThan(shrinking.droppedBelowFirstEdge, 0, "values below the first |x| edge")
        XCTAssertEqual(shrinking.1.counts.reduce(0, +), Int64(15000 - shrinking.droppedBelowFirstEdge))
        // The entropy window moved off the whole histogram somewhere, or the search is untested.
        let moved = cases.values.filter { $0.entropy.bits != $0.minmax.bits }.count
        XCTAssertGreaterThanOrEqual(moved, 3, "cases where entropy differs from minmax")
    }

    func testMethodsMakeOnnxRuntimeDefaults() {
        XCTAssertEqual(CalibrationMethod.allCases.map(\.rawValue), ["minmax", "percentile", "entropy"])
        let percentile = CalibrationMethod.percentile.makeCalibrator() as? PercentileCalibrator
        XCTAssertEqual(percentile?.symmetric, true)
        XCTAssertEqual(percentile?.percentile, 99.999)
        XCTAssertEqual((CalibrationMethod.entropy.makeCalibrator() as? EntropyCalibrator)?.quantizedBins, 128)
        for method in CalibrationMethod.allCases {
            XCTAssertTrue(method.makeCalibrator().range() == (0, 0), "\(method): nothing added")
            var calibrator = method.makeCalibrator()
            calibrator.add([.nan])
            XCTAssertTrue(calibrator.range() == (0, 0), "\(method): NaNs are ignored")
        }
    }
}
