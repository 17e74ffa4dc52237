import Foundation
import Influence
import Support
import TestSupport
import WeakSpotCLI
import XCTest

/// What one in-process command line produced.
struct CLIResult {
    var code: Int32
    var output: String
    var error: String
}

/// Runs `weakspot ARGUMENTS` in-process.
func weakspot(_ arguments: String...) -> CLIResult {
    weakspot(arguments)
}

func weakspot(_ arguments: [String]) -> CLIResult {
    var output = ""
    var error = ""
    let code = WeakSpotCLI.main(arguments, output: &output, error: &error)
    return CLIResult(code: code, output: output, error: error)
}

/// A fresh empty folder, removed when the test ends.
func temporaryFolder(_ test: XCTestCase) throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("weakspot-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url.path
}

/// A report of the tiny ResNet fixture written by `weakspot profile` into a fresh folder.
func profiledTinyReport(_ test: XCTestCase, items: String, estimators: String) throws -> (folder: String, report: String) {
    let folder = try temporaryFolder(test)
    let path = folder + "/r.json"
    let result = weakspot("profile", FixturePaths.path("models/tiny_resnet.onnx"), "--data", FixturePaths.path("models/tiny_resnet.input.npy"),
                          "--items", items, "--estimators", estimators, "-o", path, "--quiet")
    XCTAssertEqual(result.code, 0, result.error)
    return (folder, path)
}

/// A copy of the demo images in a fresh folder (tests add broken files to it).
func copyOfDemoImages(_ test: XCTestCase) throws -> String {
    let folder = try temporaryFolder(test)
    let source = FixturePaths.path("demo/images")
    for name in try FileManager.default.contentsOfDirectory(atPath: source) {
        try FileManager.default.copyItem(atPath: source + "/" + name, toPath: folder + "/" + name)
    }
    return folder
}

/// Parses JSON text printed by the tool with Foundation's parser (independent of our writer).
func parseJSON(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
    guard let dictionary = object as? [String: Any] else {
        XCTFail("expected a JSON object, got \(text.prefix(200))", file: file, line: line)
        return [:]
    }
    return dictionary
}

/// The ORT reference predictions of the demo (Fixtures/demo/predictions.json): top-1 class per
/// image file name.
func demoReferenceTop1() throws -> [String: Int] {
    let document = try parseJSON(String(decoding: try FixturePaths.data("demo/predictions.json"), as: UTF8.self))
    var result: [String: Int] = [:]
    for case let entry as [String: Any] in document["predictions"] as? [Any] ?? [] {
        guard let image = entry["image"] as? String, let top = entry["top5"] as? [[String: Any]],
              let best = top.first?["class"] as? Int else { continue }
        result[(image as NSString).lastPathComponent] = best
    }
    return result
}

enum FixtureModel {
    static let tinyResNet = FixturePaths.path("models/tiny_resnet.onnx")
}

/// A report file a command wrote, parsed and checked against the report JSON Schema (every report
/// the tests produce must validate).
func validatedReport(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
    let report = try JSONValue.parse(String(contentsOfFile: path, encoding: .utf8))
    let problems = ReportSchema.validator.violations(of: report)
    XCTAssertEqual(problems, [], "\(path) does not validate against docs/schemas/report.schema.json", file: file, line: line)
    return report
}

/// Runs the real executable with `arguments`, sends SIGINT as soon as `file` appears (a
/// checkpoint), and returns the exit status, whether it was still running when interrupted, and
/// standard error.
func interruptWhenFileAppears(_ arguments: [String], file: String, timeout: TimeInterval = 120) throws -> (status: Int32, wasRunning: Bool, error: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try XCTUnwrap(WeakSpotExecutable.path(), "the weakspot executable was not built"))
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    let error = Pipe()
    process.standardError = error
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    while !FileManager.default.fileExists(atPath: file) && process.isRunning && Date() < deadline {
        Thread.sleep(forTimeInterval: 0.01)
    }
    let wasRunning = process.isRunning
    kill(process.processIdentifier, SIGINT)
    let message = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    XCTAssertEqual(process.terminationReason, .exit, "SIGINT should end the run through its handler")
    return (process.terminationStatus, wasRunning, message)
}

/// A validated report's text without `timing`, the one part two runs of the same work differ in.
func reportWithoutTiming(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
    var o = try XCTUnwrap(try validatedReport(path, file: file, line: line).objectValue, file: file, line: line)
    o["timing"] = nil
    return JSONValue.object(o).rendered()
}
