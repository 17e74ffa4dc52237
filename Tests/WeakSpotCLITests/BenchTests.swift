import Foundation
import TestSupport
import XCTest

/// `weakspot bench`: the JSON keys the benchmark scripts read. Timings are not checked.
final class BenchTests: XCTestCase {
    func testModelLatencyAndGEMM() throws {
        let path = FixturePaths.path("models/tiny_mobilenet.onnx")
        let result = weakspot("bench", path, "--gemm-size", "128", "--repetitions", "2", "--threads", "2", "--format", "json")
        XCTAssertEqual(result.code, 0, result.error)
        let document = try parseJSON(result.output)
        XCTAssertTrue(["generic", "avx2", "avx512"].contains(document["kernel"] as? String ?? ""))
        let gemm = try XCTUnwrap(document["gemm"] as? [String: Any])
        XCTAssertEqual(gemm["size"] as? Int, 128)
        XCTAssertGreaterThan(gemm["gflopsSingleThread"] as? Double ?? 0, 0)
        XCTAssertGreaterThan(gemm["gflopsAllThreads"] as? Double ?? 0, 0)
        let model = try XCTUnwrap(document["model"] as? [String: Any])
        XCTAssertEqual(model["path"] as? String, path)
        let latencies = try XCTUnwrap(model["latencies"] as? [[String: Any]])
        XCTAssertEqual(latencies.compactMap { $0["batch"] as? Int }, [1, 16])
        for latency in latencies {
            XCTAssertEqual(latency["threads"] as? Int, 2)
            let median = try XCTUnwrap(latency["medianMs"] as? Double)
            let minimum = try XCTUnwrap(latency["minMs"] as? Double)
            XCTAssertGreaterThan(median, 0)
            XCTAssertLessThanOrEqual(minimum, median)
        }
        XCTAssertEqual(document["medianMs"] as? Double, latencies.first?["medianMs"] as? Double)
    }

    func testLayersGiveEveryStepAndBothTotals() throws {
        let path = FixturePaths.path("models/tiny_mobilenet.onnx")
        let result = weakspot("bench", path, "--gemm-size", "0", "--repetitions", "2", "--threads", "2", "--batch", "3", "--layers", "--format", "json")
        XCTAssertEqual(result.code, 0, result.error)
        let document = try parseJSON(result.output)
        let layers = try XCTUnwrap(document["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.count, 1)
        XCTAssertEqual(layers[0]["batch"] as? Int, 3)
        XCTAssertGreaterThan(layers[0]["runMedianMs"] as? Double ?? 0, 0)
        let steps = try XCTUnwrap(layers[0]["steps"] as? [[String: Any]])
        XCTAssertGreaterThan(steps.count, 3)
        for step in steps {
            XCTAssertFalse((step["nodes"] as? [String] ?? []).isEmpty)
            XCTAssertEqual((step["nodes"] as? [String])?.count, (step["operators"] as? [String])?.count)
            XCTAssertGreaterThanOrEqual(step["medianMs"] as? Double ?? -1, 0)
        }
        let sum = steps.reduce(0.0) { $0 + ($1["medianMs"] as? Double ?? 0) }
        XCTAssertGreaterThan(layers[0]["stepsMedianMs"] as? Double ?? 0, 0)
        XCTAssertGreaterThan(sum, 0)
        XCTAssertNil(try parseJSON(weakspot("bench", path, "--gemm-size", "0", "--repetitions", "1", "--format", "json").output)["layers"])
    }

    func testTableNamesTheKernel() {
        let result = weakspot("bench", "--gemm-size", "64", "--repetitions", "1")
        XCTAssertEqual(result.code, 0, result.error)
        XCTAssertTrue(result.output.hasPrefix("kernel: "))
        XCTAssertTrue(result.output.contains("gemm 64x64x64: "))
    }

    func testPreprocessingThroughput() throws {
        let folder = FixturePaths.path("demo/images")
        let result = weakspot("bench", "--data", folder, "--threads", "1", "--gemm-size", "0", "--format", "json")
        XCTAssertEqual(result.code, 0, result.error)
        let document = try parseJSON(result.output)
        XCTAssertGreaterThan(document["imagesPerSecond"] as? Double ?? 0, 0)
        XCTAssertEqual((document["data"] as? [String: Any])?["images"] as? Int, 9)
        XCTAssertNil(document["gemm"])
        let missing = weakspot("bench", "--data", "/nonexistent/folder", "--gemm-size", "0")
        XCTAssertEqual(missing.code, 2)
        XCTAssertTrue(missing.error.hasPrefix("error: /nonexistent/folder"), missing.error)
    }
}
