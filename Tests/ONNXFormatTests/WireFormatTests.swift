import ONNXFormat
import XCTest

/// Every wire type, packed and unpacked repeated scalars, skipped unknown fields and groups, and
/// the byte-level errors, on hand-built bytes.
final class WireFormatTests: XCTestCase {
    private func decode(_ bytes: [UInt8], limits: ONNXLimits = .init()) throws -> ONNXModel {
        try ONNXModel.decode(bytes, externalDataDirectory: nil, limits: limits)
    }

    private func expectError(_ bytes: [UInt8], _ kind: ONNXError.Kind, _ fragments: [String],
                             limits: ONNXLimits = .init(), file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try decode(bytes, limits: limits), file: file, line: line) { error in
            guard let error = error as? ONNXError else { return XCTFail("not an ONNXError: \(error)", file: file, line: line) }
            XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
            for fragment in fragments {
                XCTAssertTrue(error.description.contains(fragment), "'\(fragment)' missing from: \(error)", file: file, line: line)
            }
        }
    }

    func testVarintsOfEveryLength() throws {
        // model_version -1 is a ten-byte varint; ir_version 300 a two-byte one.
        let bytes = PB.int(1, 300) + PB.int(5, -1) + PB.message(7, PB.string(2, "g")) + PB.message(8, PB.int(2, 1 << 40))
        XCTAssertEqual(PB.int(5, -1).count, 11)
        let model = try decode(bytes)
        XCTAssertEqual(model.irVersion, 300)
        XCTAssertEqual(model.modelVersion, -1)
        XCTAssertEqual(model.opsetVersion(), 1 << 40)
        XCTAssertEqual(model.graph.name, "g")
    }

    func testFixed32AndFixed64() throws {
        let attribute = PB.string(1, "alpha") + PB.fixed32(2, Float(0.1).bitPattern) + PB.int(20, 1)
        let node = PB.string(4, "LeakyRelu") + PB.message(5, attribute)
        let doubles = PB.int(1, 2) + PB.int(2, 11) + PB.string(8, "d")
            + PB.fixed64(10, Double(0.25).bitPattern) + PB.fixed64(10, (-3.0 as Double).bitPattern)
        let model = try decode(PB.model(graph: PB.message(1, node), PB.message(5, doubles)))
        XCTAssertEqual(model.graph.nodes[0].attribute("alpha")?.floatValue, 0.1)
        XCTAssertEqual(try model.graph.initializers[0].floats(), [0.25, -3])
        XCTAssertEqual(model.graph.initializers[0].data, .doubleData([0.25, -3]))
    }

    func testPackedAndUnpackedRepeatedScalars() throws {
        // ints: one packed run then two unpacked; floats: unpacked then packed.
        let packedInts = PB.bytes(8, PB.varint(1) + PB.varint(300) + PB.varint(UInt64(bitPattern: -2)))
        let ints = PB.string(1, "pads") + packedInts + PB.int(8, 7) + PB.int(8, 8) + PB.int(20, 7)
        let packedFloats = PB.bytes(7, [Float(2), 3].flatMap { f in (0..<4).map { UInt8(truncatingIfNeeded: f.bitPattern >> (8 * $0)) } })
        let floats = PB.string(1, "scales") + PB.fixed32(7, Float(1).bitPattern) + packedFloats + PB.int(20, 6)
        // dims unpacked, int64_data packed.
        let tensor = PB.int(1, 2) + PB.int(1, 1) + PB.int(2, 7) + PB.string(8, "t")
            + PB.bytes(7, PB.varint(5) + PB.varint(UInt64(bitPattern: -6)))
        let node = PB.string(4, "Pad") + PB.message(5, ints) + PB.message(5, floats)
        let model = try decode(PB.model(graph: PB.message(1, node), PB.message(5, tensor)))
        XCTAssertEqual(model.graph.nodes[0].attribute("pads")?.intsValue, [1, 300, -2, 7, 8])
        XCTAssertEqual(model.graph.nodes[0].attribute("scales")?.floatsValue, [1, 2, 3])
        XCTAssertEqual(model.graph.initializers[0].dims, [2, 1])
        XCTAssertEqual(try model.graph.initializers[0].int64s(), [5, -6])
    }

    func testUnknownFieldsAndGroupsAreSkipped() throws {
        let group = PB.key(50, 3) + PB.int(1, 5) + PB.key(51, 3) + PB.fixed32(2, 9) + PB.key(51, 4)
            + PB.string(3, "x") + PB.key(50, 4)
        let unknown = PB.int(99, 1) + PB.fixed64(98, 2) + PB.fixed32(97, 3) + PB.string(96, "skip") + group
        let graph = unknown + PB.string(2, "kept") + unknown
        let bytes = unknown + PB.int(1, 8) + PB.message(7, graph) + PB.message(8, PB.int(2, 13), unknown) + unknown
        let model = try decode(bytes)
        XCTAssertEqual(model.graph.name, "kept")
        XCTAssertEqual(model.opsetVersion(), 13)
    }

    func testVarintOfElevenBytesIsRefused() {
        let eleven: [UInt8] = Array(repeating: 0xFF, count: 10) + [0x01]
        expectError(PB.key(1, 0) + eleven, .malformed, ["at byte 1", "varint longer than 10 bytes"])
        let overflow: [UInt8] = Array(repeating: 0xFF, count: 9) + [0x02]
        expectError(PB.key(1, 0) + overflow, .malformed, ["varint overflows 64 bits"])
    }

    func testLengthPastTheEndIsTruncated() {
        expectError(PB.key(7, 2) + PB.varint(100) + [1, 2, 3], .truncated, ["at byte 1", "field 7 'graph': length 100", "3 bytes left"])
        // Inside the graph: a node whose declared length exceeds the graph's.
        let graph = PB.key(1, 2) + PB.varint(40) + PB.string(4, "Relu")
        expectError(PB.int(1, 8) + PB.message(7, graph), .truncated, ["in graph", "length 40"])
        expectError([0x08], .truncated, ["at byte 1", "varint runs past"])
        expectError(PB.key(50, 5) + [1, 2], .truncated, ["fixed32 needs 4 bytes"])
    }

    func testWrongWireTypeForKnownFields() {
        expectError(PB.int(7, 1), .malformed, ["in model", "field 7 'graph': expected wire type length-delimited, got varint"])
        expectError(PB.model(graph: PB.string(1, "node?")), .malformed, ["graph.node[0]"])
        let attribute = PB.string(1, "alpha") + PB.int(2, 1)
        let node = PB.string(3, "relu1") + PB.string(4, "LeakyRelu") + PB.message(5, attribute)
        expectError(PB.model(graph: PB.message(1, node)), .malformed,
                    ["graph.node[0] 'relu1'.attribute 'alpha'", "field 2 'f': expected wire type fixed32, got varint"])
        let tensor = PB.string(8, "w") + PB.fixed32(1, 0)
        expectError(PB.model(graph: PB.message(5, tensor)), .malformed,
                    ["graph.initializer[0] 'w'", "'dims': expected wire type varint or length-delimited, got fixed32"])
    }

    func testInvalidKeysAreRefused() {
        expectError([0x0E, 0x00], .malformed, ["at byte 0", "invalid wire type 6"])
        expectError([0x0F], .malformed, ["invalid wire type 7"])
        expectError([0x00, 0x01], .malformed, ["invalid field number 0"])
        expectError(PB.key(40, 4), .malformed, ["end-group for field 40 without a matching start-group"])
        expectError(PB.key(40, 3) + PB.int(1, 1), .truncated, ["group for field 40 is not closed"])
        expectError(PB.key(40, 3) + PB.key(41, 4), .malformed, ["end-group for field 41 closes group 40"])
    }

    func testNestingAndStringLimits() {
        let depth = 10
        var nested: [UInt8] = []
        for _ in 0..<depth { nested += PB.key(60, 3) }
        for _ in 0..<depth { nested += PB.key(60, 4) }
        let bytes = PB.model(graph: PB.string(2, "g")) + nested
        XCTAssertNoThrow(try decode(bytes, limits: ONNXLimits(maxNestingDepth: 10)))
        expectError(bytes, .limitExceeded, ["nested deeper than 9", "--max-nesting-depth"], limits: ONNXLimits(maxNestingDepth: 9))

        let named = PB.model(graph: PB.string(2, String(repeating: "n", count: 100)))
        expectError(named, .limitExceeded, ["in graph", "holds 100 bytes, limit 99", "--max-string-bytes"],
                    limits: ONNXLimits(maxStringBytes: 99))
    }

    func testModelLevelRules() {
        expectError([], .malformed, ["has no graph (field 7)", "not an ONNX model"])
        expectError(PB.int(1, 8) + PB.message(7, []), .malformed, ["imports no operator set"])
        let sparse = PB.message(1, PB.floatTensor(name: "sp", dims: [1], floats: [1]))
        expectError(PB.model(graph: PB.message(15, sparse)), .unsupported, ["graph.sparse_initializer", "sparse initializers are not supported"])
    }
}

/// Limits other than the wire-level ones, each named in its message.
final class LimitTests: XCTestCase {
    func testTensorElementLimitIsConfigurable() throws {
        let bytes = PB.model(graph: PB.message(5, PB.floatTensor(name: "w", dims: [2, 3], floats: Array(repeating: 1, count: 6))))
        XCTAssertNoThrow(try ONNXModel.decode(bytes, externalDataDirectory: nil, limits: ONNXLimits(maxTensorElements: 6)))
        XCTAssertThrowsError(try ONNXModel.decode(bytes, externalDataDirectory: nil, limits: ONNXLimits(maxTensorElements: 5))) { error in
            XCTAssertEqual((error as? ONNXError)?.kind, .limitExceeded)
            XCTAssertTrue("\(error)".hasSuffix("in graph.initializer[0] 'w': tensor declares 6 elements, limit 5 (raise with --max-tensor-elements)"), "\(error)")
        }
    }

    func testOverflowingDimsAreRefused() {
        let tensor = PB.int(1, Int64.max) + PB.int(1, 4) + PB.int(2, 1) + PB.string(8, "w")
        XCTAssertThrowsError(try ONNXModel.decode(PB.model(graph: PB.message(5, tensor)), externalDataDirectory: nil)) { error in
            XCTAssertEqual((error as? ONNXError)?.kind, .limitExceeded)
            XCTAssertTrue("\(error)".contains("declare more than"), "\(error)")
        }
    }

    /// One-byte varints decoded as int64 expand eightfold: the ratio limit bounds that.
    func testInitializerBytesRatio() throws {
        let count = 1000
        let tensor = PB.int(1, Int64(count)) + PB.int(2, 7) + PB.string(8, "ids")
            + PB.bytes(7, Array(repeating: 1, count: count))
        let bytes = PB.model(graph: PB.message(5, tensor))
        let model = try ONNXModel.decode(bytes, externalDataDirectory: nil)
        XCTAssertEqual(try model.graph.initializers[0].int64s(), Array(repeating: 1, count: count))
        XCTAssertThrowsError(try ONNXModel.decode(bytes, externalDataDirectory: nil,
                                                  limits: ONNXLimits(maxTotalInitializerBytesRatio: 4))) { error in
            XCTAssertEqual((error as? ONNXError)?.kind, .limitExceeded)
            XCTAssertTrue("\(error)".contains("initializers declare 8000 bytes"), "\(error)")
            XCTAssertTrue("\(error)".contains("--max-initializer-bytes-ratio"), "\(error)")
        }
    }

    func testTensorFieldRules() {
        func expect(_ tensor: [UInt8], _ fragment: String, line: UInt = #line) {
            let node = PB.string(3, "c") + PB.string(4, "Constant")
                + PB.message(5, PB.string(1, "value"), PB.message(5, tensor), PB.int(20, 4))
            XCTAssertThrowsError(try ONNXModel.decode(PB.model(graph: PB.message(1, node)), externalDataDirectory: nil), line: line) { error in
                XCTAssertTrue("\(error)".contains("graph.node[0] 'c'.attribute 'value'.t: " + fragment), "\(error)", line: line)
            }
        }
        let raw = PB.bytes(9, [0, 0, 0, 0])
        expect(PB.int(1, 1) + PB.int(2, 1) + raw + PB.fixed32(4, 0), "tensor stores data in more than one field: float_data, raw_data")
        expect(PB.int(1, 1) + PB.int(2, 7) + PB.fixed32(4, 0), "int64 tensor stores its data in float_data, expected int64_data")
        expect(PB.int(1, 2) + PB.int(2, 1) + PB.fixed32(4, 0), "float_data holds 1 values, dims [2] need 2")
        expect(PB.int(1, 2) + PB.int(2, 1), "tensor declares 2 elements of float but stores no data")
        expect(PB.int(2, 99) + raw, "data_type 99 is not a known onnx data type")
        expect(raw, "tensor has no data_type")
        expect(PB.int(1, 1) + PB.int(2, 8) + raw, "string tensor cannot use raw_data")
        expect(PB.int(2, 1) + raw + PB.int(14, 2), "data_location 2 is neither")
        expect(PB.int(2, 1) + PB.int(14, 1) + PB.message(13, PB.string(1, "location"), PB.string(2, "w.bin")),
               "tensor uses external data file 'w.bin' but the model was decoded without a folder")
    }

    func testExternalDataEntries() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("onnx-ext-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data([1, 0, 0, 0, 0, 0, 0x80, 0x3F]).write(to: folder.appendingPathComponent("w.bin"))
        func tensor(_ entries: [(String, String)]) -> [UInt8] {
            let model = PB.model(graph: PB.message(5, PB.int(2, 1) + PB.string(8, "w") + PB.int(14, 1)
                + entries.flatMap { PB.message(13, PB.string(1, $0.0), PB.string(2, $0.1)) }))
            return model
        }
        let ok = try ONNXModel.decode(tensor([("location", "w.bin"), ("offset", "4")]), externalDataDirectory: folder.path)
        XCTAssertEqual(try ok.graph.initializers[0].floats(), [1])
        for (entries, fragment) in [
            ([("location", "w.bin"), ("offset", "-4")], "offset '-4' is not a non-negative integer"),
            ([("location", "w.bin"), ("length", "x")], "length 'x' is not a non-negative integer"),
            ([("location", "w.bin")], "external data length 8 in 'w.bin', tensor dims need 4 bytes"),
            ([("location", "w.bin"), ("offset", "9")], "offset 9 is past the end of 'w.bin' (8 bytes)"),
            ([("location", "missing.bin")], "'missing.bin' not found in the model folder"),
            ([("offset", "0")], "external data has no location"),
            ([("location", "a/../../w.bin")], "leaves the model folder"),
        ] {
            XCTAssertThrowsError(try ONNXModel.decode(tensor(entries), externalDataDirectory: folder.path)) { error in
                XCTAssertEqual((error as? ONNXError)?.kind, .externalData, "\(error)")
                XCTAssertTrue("\(error)".contains("in graph.initializer[0] 'w': external data"), "\(error)")
                XCTAssertTrue("\(error)".contains(fragment), "\(error)")
            }
        }
    }
}
