import Execution
import Foundation
import Influence
import NetworkIR
import ONNXFormat
import XCTest

/// README's "Using it as a library" snippet compiles: `snippet` below holds its lines verbatim,
/// and the test fails when README's code block is no longer found in this file.
final class ReadmeLibraryTests: XCTestCase {
    func testReadmeSnippetIsCompiledHere() throws {
        let tests = URL(fileURLWithPath: #filePath)
        let readme = tests.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let section = try XCTUnwrap(text.range(of: "## Using it as a library"), "README has no library section")
        let block = text[section.upperBound...].components(separatedBy: "```")
        XCTAssertGreaterThanOrEqual(block.count, 3, "README's library section has no code block")
        let code = block[1].components(separatedBy: "\n").dropFirst()  // "swift"
            .filter { !$0.hasPrefix("import ") && !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        XCTAssertGreaterThanOrEqual(code.count, 5)
        let source = try String(contentsOf: tests, encoding: .utf8)
        for line in code { XCTAssert(source.contains("        " + line), "README line not compiled here: \(line)") }
    }

    /// Never run: it only has to compile, with README's undefined names as parameters.
    func snippet(pixels: [Float], batch: Tensor) throws {
        let graph = try Importer.importGraph(try ONNXModel.load(path: "model.onnx"))
        let plan = try ExecutionPlan(graph: graph, options: ExecutionOptions(threads: 2))
        let logits = try plan.run(Tensor(shape: [1, 3, 224, 224], storage: pixels))[0]

        var options = ProfileOptions()
        options.kinds = [.channel]
        let profiler = try Profiler(graph: graph, options: options)
        let cache = try profiler.cache(input: batch)                       // one baseline pass
        let perturbed = try profiler.perturbedLogits(profiler.items[0], level: 1, cache: cache)
        _ = (logits, perturbed)
    }
}
