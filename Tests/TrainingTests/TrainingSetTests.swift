import Foundation
import NetworkIR
import Support
import Training
import XCTest

/// The training set's geometry (reflection padding, crops, flips, both layouts) against values
/// written out by hand, and the seeded order and augmentation.
final class TrainingSetTests: XCTestCase {
    /// One 1×3×4 NCHW sample with values 0…11 (row-major).
    let sample: [Float] = (0..<12).map(Float.init)

    func testReflectPaddingMatchesNumpyReflect() throws {
        // np.pad(np.arange(12).reshape(3, 4), 1, mode='reflect')
        let expected: [Float] = [5, 4, 5, 6, 7, 6,
                                 1, 0, 1, 2, 3, 2,
                                 5, 4, 5, 6, 7, 6,
                                 9, 8, 9, 10, 11, 10,
                                 5, 4, 5, 6, 7, 6]
        let set = try TrainingSet.reflectPadded(sample, count: 1, sampleShape: [1, 3, 4], layout: .nchw, margin: 1, labels: nil)
        // The centre crop is the original; every other crop is a window of the padded array.
        XCTAssertEqual(set.batch([0], epoch: 0, seed: 0, augment: .none).storage, sample)
        var seen = Set<[Float]>()
        for epoch in 0..<200 {
            let crop = set.batch([0], epoch: epoch, seed: 9, augment: AugmentSettings(randomCrop: true, flip: false)).storage
            var windows: [[Float]] = []
            for oy in 0...2 {
                for ox in 0...2 {
                    var window: [Float] = []
                    for y in 0..<3 { for x in 0..<4 { window.append(expected[(y + oy) * 6 + x + ox]) } }
                    windows.append(window)
                }
            }
            XCTAssertTrue(windows.contains(crop), "epoch \(epoch): \(crop) is not a 3×4 window of the padded sample")
            seen.insert(crop)
        }
        XCTAssertEqual(seen.count, 9, "all nine offsets occur over 200 epochs")
    }

    func testFlipMirrorsRowsInBothLayouts() throws {
        let nchw = try TrainingSet.reflectPadded(sample, count: 1, sampleShape: [1, 3, 4], layout: .nchw, margin: 0, labels: nil)
        var flips = 0
        for epoch in 0..<40 {
            let out = nchw.batch([0], epoch: epoch, seed: 1, augment: AugmentSettings(randomCrop: false, flip: true)).storage
            if out == [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8] { flips += 1 } else { XCTAssertEqual(out, sample) }
        }
        XCTAssertTrue((10...30).contains(flips), "about half the epochs flip: \(flips) of 40")
        // NHWC (H=2, W=2, C=3): flipping swaps pixels, keeps each pixel's channels together.
        let pixels: [Float] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
        let nhwc = try TrainingSet.reflectPadded(pixels, count: 1, sampleShape: [2, 2, 3], layout: .nhwc, margin: 0, labels: nil)
        let outputs = Set((0..<40).map { nhwc.batch([0], epoch: $0, seed: 1, augment: AugmentSettings(randomCrop: false, flip: true)).storage })
        XCTAssertEqual(outputs, [pixels, [3, 4, 5, 0, 1, 2, 9, 10, 11, 6, 7, 8]])
    }

    func testOrderAndAugmentationAreSeededAndVaryByEpoch() throws {
        let values = (0..<(10 * 12)).map(Float.init)
        let set = try TrainingSet.reflectPadded(values, count: 10, sampleShape: [1, 3, 4], layout: .nchw, margin: 1, labels: Array(0..<10))
        let a = set.order(epoch: 3, seed: 42, shuffle: true)
        XCTAssertEqual(a.sorted(), Array(0..<10))
        XCTAssertEqual(a, set.order(epoch: 3, seed: 42, shuffle: true))
        XCTAssertNotEqual(a, set.order(epoch: 4, seed: 42, shuffle: true))
        XCTAssertNotEqual(a, set.order(epoch: 3, seed: 43, shuffle: true))
        XCTAssertEqual(set.order(epoch: 3, seed: 42, shuffle: false), Array(0..<10))
        let augment = AugmentSettings(randomCrop: true, flip: true)
        XCTAssertEqual(set.batch([4, 2], epoch: 1, seed: 5, augment: augment), set.batch([4, 2], epoch: 1, seed: 5, augment: augment))
        // A sample's augmentation depends on its index, not on its position in the batch.
        let pair = set.batch([4, 2], epoch: 1, seed: 5, augment: augment).storage
        XCTAssertEqual(Array(pair[12..<24]), set.batch([2], epoch: 1, seed: 5, augment: augment).storage)
    }

    /// Each mixed sample is λ·(its own view) + (1 − λ)·(another input's view), λ in [0, 1): solved
    /// for λ against every other input, exactly one fits, and never the sample itself. Seeded like
    /// the other augmentations, and position-independent.
    func testMixupBlendsEachSampleWithAnotherInput() throws {
        let count = 6, per = 12
        var generator = SplitMix64(seed: 3)
        let values = (0..<(count * per)).map { _ in Float(generator.nextUnit()) }
        let set = try TrainingSet.reflectPadded(values, count: count, sampleShape: [1, 3, 4], layout: .nchw, margin: 0, labels: nil)
        let mixup = AugmentSettings(randomCrop: false, flip: false, mixup: true)
        var partners = Set<Int>(), lambdas: [Float] = []
        for epoch in 0..<20 {
            let mixed = set.batch(Array(0..<count), epoch: epoch, seed: 7, augment: mixup).storage
            XCTAssertEqual(mixed, set.batch(Array(0..<count), epoch: epoch, seed: 7, augment: mixup).storage)
            for i in 0..<count {
                let m = Array(mixed[(i * per)..<((i + 1) * per)]), a = Array(values[(i * per)..<((i + 1) * per)])
                XCTAssertEqual(m, set.batch([i], epoch: epoch, seed: 7, augment: mixup).storage, "position-independent")
                var fits: [(partner: Int, lambda: Float)] = []
                for p in 0..<count where p != i {
                    let b = Array(values[(p * per)..<((p + 1) * per)])
                    // Least squares for m = λ·a + (1 − λ)·b, i.e. m − b = λ·(a − b).
                    let d = zip(a, b).map { $0 - $1 }, r = zip(m, b).map { $0 - $1 }
                    let lambda = zip(r, d).map { $0 * $1 }.reduce(0, +) / d.map { $0 * $0 }.reduce(0, +)
                    let residual = zip(r, d).map { abs($0 - lambda * $1) }.max()!
                    if residual < 1e-5 { fits.append((p, lambda)) }
                }
                XCTAssertEqual(fits.count, 1, "epoch \(epoch) sample \(i): \(fits)")
                if let fit = fits.first {
                    XCTAssertTrue((-1e-5...1).contains(fit.lambda), "λ \(fit.lambda)")
                    partners.insert(fit.partner); lambdas.append(fit.lambda)
                }
            }
        }
        XCTAssertEqual(partners.count, count, "every input is drawn as a partner over 20 epochs")
        XCTAssertGreaterThan(lambdas.max()! - lambdas.min()!, 0.5, "λ varies")
        // Without mixup a sample is its own view, unchanged.
        XCTAssertEqual(set.batch([2], epoch: 0, seed: 7, augment: .none).storage, Array(values[24..<36]))
    }

    /// Checkpoints written before mixup existed carry settings without its key: they must still
    /// decode, and a run without mixup must encode exactly as before (the fingerprint compares text).
    func testSettingsWithoutMixupEncodeAsBefore() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let plain = String(decoding: try encoder.encode(AugmentSettings(randomCrop: true, flip: false)), as: UTF8.self)
        XCTAssertEqual(plain, #"{"flip":false,"randomCrop":true}"#)
        XCTAssertEqual(try JSONDecoder().decode(AugmentSettings.self, from: Data(plain.utf8)), AugmentSettings(randomCrop: true, flip: false))
        let mixed = AugmentSettings(randomCrop: true, flip: true, mixup: true)
        XCTAssertEqual(try JSONDecoder().decode(AugmentSettings.self, from: try encoder.encode(mixed)), mixed)
    }

    func testMalformedSetsAreRefused() {
        XCTAssertThrowsError(try TrainingSet.reflectPadded(sample, count: 1, sampleShape: [1, 3, 4], layout: .nchw, margin: 3, labels: nil))
        XCTAssertThrowsError(try TrainingSet.reflectPadded(sample, count: 2, sampleShape: [1, 3, 4], layout: .nchw, margin: 1, labels: nil))
        XCTAssertThrowsError(try TrainingSet.reflectPadded(sample, count: 1, sampleShape: [1, 3, 4], layout: .nchw, margin: 1, labels: [1, 2]))
        XCTAssertThrowsError(try TrainingSet.reflectPadded(sample, count: 1, sampleShape: [12], layout: .nchw, margin: 0, labels: nil))
    }
}
