import TestSupport
import XCTest

/// The argument scanner, through the commands that use it.
final class ArgumentTests: XCTestCase {
    let tiny = FixturePaths.path("models/tiny_resnet.onnx")

    func testUnknownOptionIsNamedWithTheClosestKnownOne() {
        let result = weakspot("count", tiny, "--fromat", "json")
        XCTAssertEqual(result.code, 2)
        XCTAssertEqual(result.output, "")
        XCTAssertEqual(result.error, "error: unknown option '--fromat' (did you mean '--format'?)\nSee 'weakspot count --help'.\n")
        let far = weakspot("count", tiny, "--zzzzzz")
        XCTAssertEqual(far.error, "error: unknown option '--zzzzzz'\nSee 'weakspot count --help'.\n")
        XCTAssertEqual(weakspot("run", tiny, "-x").code, 2)
    }

    func testMissingValue() {
        let last = weakspot("count", tiny, "--format")
        XCTAssertEqual(last.code, 2)
        XCTAssertEqual(last.error, "error: missing value for '--format': expected <format>\nSee 'weakspot count --help'.\n")
        let beforeOption = weakspot("run", tiny, "--data", "--top", "1")
        XCTAssertEqual(beforeOption.code, 2)
        XCTAssertTrue(beforeOption.error.hasPrefix("error: missing value for '--data'"), beforeOption.error)
        let requiredOption = weakspot("run", tiny)
        XCTAssertEqual(requiredOption.code, 2)
        XCTAssertTrue(requiredOption.error.hasPrefix("error: missing option '--data <data>'"), requiredOption.error)
    }

    func testPositionalCounts() {
        XCTAssertEqual(weakspot("count").error, "error: missing argument <model>\nSee 'weakspot count --help'.\n")
        XCTAssertEqual(weakspot("count", tiny, "extra").error, "error: unexpected argument 'extra'\nSee 'weakspot count --help'.\n")
    }

    func testBadValues() {
        let format = weakspot("count", tiny, "--format", "xml")
        XCTAssertEqual(format.code, 2)
        XCTAssertTrue(format.error.hasPrefix("error: --format: expected one of table, json, csv, got 'xml'"), format.error)
        let top = weakspot("run", tiny, "--data", "synthetic:2", "--top", "two")
        XCTAssertEqual(top.code, 2)
        XCTAssertTrue(top.error.hasPrefix("error: --top: expected an integer in 1...1000000, got 'two'"), top.error)
        XCTAssertEqual(weakspot("count", tiny, "--format=json=x").code, 2)
        let flag = weakspot("run", tiny, "--data", "synthetic:2", "--quiet=yes")
        XCTAssertEqual(flag.code, 2)
        XCTAssertTrue(flag.error.contains("--quiet is a flag and takes no value"), flag.error)
        let mean = weakspot("run", tiny, "--data", "synthetic:2", "--mean", "0.5,x")
        XCTAssertEqual(mean.code, 2)
        XCTAssertTrue(mean.error.hasPrefix("error: --mean: expected comma-separated numbers"), mean.error)
    }

    func testEqualsFormDoubleDashAndLastValueWins() throws {
        let equals = weakspot("count", "--format=csv", tiny)
        XCTAssertEqual(equals.code, 0, equals.error)
        XCTAssertTrue(equals.output.hasPrefix("name,op,output_shape,params,macs\n"))
        let lastWins = weakspot("count", tiny, "--format", "table", "--format", "csv")
        XCTAssertEqual(lastWins.output, equals.output)
        let dashed = weakspot("count", "--format", "csv", "--", tiny)
        XCTAssertEqual(dashed.output, equals.output)
        let optionAsPositional = weakspot("count", "--", "--format")
        XCTAssertEqual(optionAsPositional.code, 2)
        XCTAssertEqual(optionAsPositional.error, "error: --format: expected an ONNX model file, got no such file\n")
    }

    func testRepeatedOptionKeepsEveryValue() throws {
        let result = weakspot("bench", tiny, "--batch", "1", "--batch=3", "--gemm-size", "0", "--repetitions", "1", "--format", "json")
        XCTAssertEqual(result.code, 0, result.error)
        let document = try parseJSON(result.output)
        let latencies = (document["model"] as? [String: Any])?["latencies"] as? [[String: Any]]
        XCTAssertEqual(latencies?.compactMap { $0["batch"] as? Int }, [1, 3])
    }
}
