import Foundation
import ONNXFormat
import TestSupport
import XCTest

/// `decode(encode(m)) == m`, and the writer's output for built models.
final class RoundTripTests: XCTestCase {
    func testSmallModelRoundTrips() throws {
        let model = try SmallModelTests.load()
        let encoded = model.encoded()
        let again = try ONNXModel.decode(encoded, externalDataDirectory: nil)
        XCTAssertEqual(again, model)
        XCTAssertEqual(again.encoded(), encoded, "encoding is deterministic")
    }

    func testWriteAndLoadAgain() throws {
        let model = try SmallModelTests.load()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("onnx-write-\(getpid()).onnx").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.write(to: path)
        XCTAssertEqual(try ONNXModel.load(path: path), model)
        XCTAssertThrowsError(try model.write(to: "/nonexistent-folder/m.onnx")) { error in
            XCTAssertEqual((error as? ONNXError)?.kind, .io)
            XCTAssertTrue("\(error)".hasPrefix("/nonexistent-folder/m.onnx: cannot write the model"), "\(error)")
        }
    }

    func testSubgraphsAreKeptOpaqueAndRoundTrip() throws {
        let model = try ONNXModel.load(path: FixturePaths.path("onnx/if_model.onnx"))
        let node = try XCTUnwrap(model.graph.nodes.first)
        XCTAssertEqual(node.opType, "If")
        for name in ["then_branch", "else_branch"] {
            guard case let .unsupported(opaque)? = node.attribute(name)?.value else { return XCTFail("\(name) not opaque") }
            XCTAssertTrue(opaque.isSubgraph)
            XCTAssertEqual(node.attribute(name)?.kindLabel, "graph")
            XCTAssertFalse(opaque.encodedFields.isEmpty)
        }
        XCTAssertEqual(try ONNXModel.decode(model.encoded(), externalDataDirectory: nil), model)
    }

    func testBuiltModelRoundTrips() throws {
        let weight = ONNXTensor(name: "w", floats: [1, -2, .infinity, -.nan, 0x1p-149, -0.0], dims: [2, 3])
        let shape = ONNXTensor(name: "shape", int64s: [-1, 6, Int64.max], dims: [3])
        let typed = ONNXTensor(name: "typed", dataType: .float, dims: [2], data: .floatData([.nan, 1]))
        let node = ONNXNode(name: "gemm", opType: "Gemm", inputs: ["x", "w", ""], outputs: ["y"], attributes: [
            ONNXAttribute(name: "alpha", value: .float(-.nan)),
            ONNXAttribute(name: "transB", value: .int(1)),
            ONNXAttribute(name: "mode", value: .string(Array("constant".utf8))),
            ONNXAttribute(name: "empty", value: .ints([])),
            ONNXAttribute(name: "t", value: .tensor(shape)),
            ONNXAttribute(name: "ts", value: .tensors([weight, typed])),
            ONNXAttribute(name: "ss", value: .strings([[], [0xFF]])),
        ], docString: "d", metadata: [ONNXMetadataEntry(key: "k", value: "v")])
        let graph = ONNXGraph(
            name: "g", nodes: [node], initializers: [weight, shape, typed],
            inputs: [ONNXValueInfo(name: "x", elementType: .float, shape: [.symbolic("N"), .value(3), .unknown, .value(0)])],
            outputs: [ONNXValueInfo(name: "y", elementType: .float), ONNXValueInfo(name: "z"),
                      ONNXValueInfo(name: "s", shape: [])],
            valueInfo: [ONNXValueInfo(name: "v", elementType: .float16, shape: [.symbolic("")])],
            docString: "gd", metadata: [ONNXMetadataEntry(key: "", value: "")])
        let model = ONNXModel(irVersion: 9, opsetImports: [ONNXOpsetID(domain: "", version: 18), ONNXOpsetID(domain: "x", version: 0)],
                              producerName: "p", producerVersion: "v", domain: "d", modelVersion: -5, docString: "doc",
                              graph: graph, metadata: [ONNXMetadataEntry(key: "a", value: "b")])
        let decoded = try ONNXModel.decode(model.encoded(), externalDataDirectory: nil)
        XCTAssertEqual(decoded, model)
        XCTAssertEqual(try decoded.graph.initializers[0].floats().map(\.bitPattern),
                       [1, -2, .infinity, -.nan, 0x1p-149, -0.0].map { (f: Float) in f.bitPattern })
        XCTAssertEqual(try decoded.graph.initializers[1].int64s(), [-1, 6, Int64.max])
    }

    /// Every float16 bit pattern against the standard library's `Float16` conversion.
    func testFloat16ConversionIsExactForAllValues() throws {
        #if !(os(macOS) && arch(x86_64))
        let bits = (0...UInt16.max).map { $0 }
        let raw = bits.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let tensor = ONNXTensor(name: "all", dataType: .float16, dims: [bits.count], data: .raw(raw))
        let floats = try tensor.floats()
        var mismatches = 0
        for (b, f) in zip(bits, floats) {
            let reference = Float(Float16(bitPattern: b))
            if reference.isNaN ? !f.isNaN : f.bitPattern != reference.bitPattern { mismatches += 1 }
        }
        XCTAssertEqual(mismatches, 0)
        #endif
    }
}
