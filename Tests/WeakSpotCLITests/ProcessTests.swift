import Foundation
import TestSupport
import XCTest

/// A few cases through a real process: the exit code and streams of the built executable.
final class ProcessTests: XCTestCase {
    /// The `weakspot` executable that `swift test` builds (see TestSupport's `WeakSpotExecutable`).
    func executable() throws -> String {
        try XCTUnwrap(WeakSpotExecutable.path(), "the weakspot executable was not built")
    }

    func launch(_ arguments: [String]) throws -> (code: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try executable())
        process.arguments = arguments
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    func testHelpExitsZero() throws {
        let result = try launch(["--help"])
        XCTAssertEqual(result.code, 0)
        XCTAssertTrue(result.output.contains("SUBCOMMANDS:"))
        XCTAssertEqual(result.error, "")
    }

    func testUnknownOptionExitsTwo() throws {
        let result = try launch(["count", FixturePaths.path("models/tiny_resnet.onnx"), "--bogus"])
        XCTAssertEqual(result.code, 2)
        XCTAssertEqual(result.output, "")
        XCTAssertEqual(result.error, "error: unknown option '--bogus'\nSee 'weakspot count --help'.\n")
    }

    func testCorruptModelExitsTwoAndCountWorks() throws {
        let folder = try temporaryFolder(self)
        let path = folder + "/zeros.onnx"
        try Data(repeating: 0xFF, count: 1000).write(to: URL(fileURLWithPath: path))
        let corrupt = try launch(["count", path])
        XCTAssertEqual(corrupt.code, 2)
        XCTAssertTrue(corrupt.error.hasPrefix("error: \(path): "), corrupt.error)
        let good = try launch(["count", FixturePaths.path("models/resnet18_bn.onnx"), "--format", "csv"])
        XCTAssertEqual(good.code, 0, good.error)
        XCTAssertTrue(good.output.hasPrefix("name,op,output_shape,params,macs\n"))
    }
}
