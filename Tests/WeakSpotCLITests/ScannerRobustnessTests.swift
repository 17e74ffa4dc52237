import TestSupport
import XCTest

/// Random command lines never end in an internal error: every one is either run (exit 0) or
/// refused as bad usage or input (exit 2) with exactly one `error:` line.
final class ScannerRobustnessTests: XCTestCase {
    func testRandomCommandLines() {
        let vocabulary = [
            "count", "help", "profile", "--format", "--format=json", "--format=", "json", "csv", "table", "xml",
            "--input-shape", "1x3x64x64", "0x0", "1x3", "x", "--", "-", "-h", "--help", "-o", "--max-tensor-elements",
            "-1", "99999999999999999999", "--max-initializer-bytes-ratio", "nan", "inf", "0", "--max-nesting-depth",
            "--fromat", "---", "--=", "=", "", " ", "é", "--quiet", FixtureModel.tinyResNet, "/nonexistent.onnx",
            FixturePaths.path("models/tiny_concat.onnx"), FixturePaths.path("demo/images"),
        ]
        var generator = SeededGenerator(seed: 12345)
        var outcomes: [Int32: Int] = [:]
        for _ in 0..<600 {
            let length = Int.random(in: 0...6, using: &generator)
            var arguments = (0..<length).map { _ in vocabulary.randomElement(using: &generator) ?? "" }
            if Bool.random(using: &generator) { arguments.insert("count", at: 0) }
            if Int.random(in: 0..<4, using: &generator) == 0 { arguments += ["count", FixtureModel.tinyResNet] }
            let result = weakspot(arguments)
            outcomes[result.code, default: 0] += 1
            XCTAssertTrue(result.code == 0 || result.code == 2, "\(arguments) → \(result.code): \(result.error)")
            if result.code == 2 {
                XCTAssertTrue(result.error.hasPrefix("error: "), "\(arguments): \(result.error)")
                XCTAssertEqual(result.error.split(separator: "\n").filter { $0.hasPrefix("error:") }.count, 1, "\(arguments)")
            }
        }
        XCTAssertGreaterThan(outcomes[0] ?? 0, 10, "\(outcomes)")
        XCTAssertGreaterThan(outcomes[2] ?? 0, 100, "\(outcomes)")
    }
}

/// SplitMix64, so the random command lines are the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
