import Foundation
import ONNXFormat
import TestSupport
import XCTest

/// Fixtures/onnx/small_model.onnx, written by the `onnx` pip package, checked field by field
/// against the values Fixtures/scripts/make_onnx_fixtures.py wrote to small_model.json.
final class SmallModelTests: XCTestCase {
    struct Manifest: Decodable {
        struct Opset: Decodable { var domain: String; var version: Int64 }
        struct Entry: Decodable { var key: String; var value: String }
        struct Tensor: Decodable { var name: String; var dataType: Int32; var dims: [Int]; var floatBits: [UInt32]?; var int64s: [Int64]? }
        struct Attribute: Decodable {
            var name: String; var type: Int; var floatBits: [UInt32]?; var ints: [Int64]?; var strings: [String]?; var tensorNames: [String]?
        }
        struct Node: Decodable {
            var name: String; var opType: String; var domain: String; var inputs: [String]; var outputs: [String]
            var docString: String; var attributes: [Attribute]
        }
        struct ValueInfo: Decodable { var name: String; var elementType: Int32?; var shape: [String]? }
        struct Field: Decodable { var field: Int; var end: Int }
        var irVersion: Int64; var opsets: [Opset]; var producerName: String; var producerVersion: String
        var domain: String; var modelVersion: Int64; var docString: String; var metadata: [Entry]
        var graphName: String; var graphDocString: String; var initializers: [Tensor]; var nodes: [Node]
        var inputs: [ValueInfo]; var outputs: [ValueInfo]; var valueInfo: [ValueInfo]; var fileSize: Int
        var topLevelFields: [Field]
    }

    static func manifest() throws -> Manifest {
        try JSONDecoder().decode(Manifest.self, from: Data(FixturePaths.data("onnx/small_model.json")))
    }

    static func load() throws -> ONNXModel {
        try ONNXModel.load(path: FixturePaths.path("onnx/small_model.onnx"))
    }

    func testModelFields() throws {
        let model = try Self.load(), expected = try Self.manifest()
        XCTAssertEqual(model.irVersion, expected.irVersion)
        XCTAssertEqual(model.opsetImports, expected.opsets.map { ONNXOpsetID(domain: $0.domain, version: $0.version) })
        XCTAssertEqual(model.opsetVersion(), 17)
        XCTAssertEqual(model.opsetVersion(domain: "ai.onnx"), 17)
        XCTAssertEqual(model.opsetVersion(domain: "com.weakspot.test"), 1)
        XCTAssertNil(model.opsetVersion(domain: "com.microsoft"))
        XCTAssertEqual(model.producerName, expected.producerName)
        XCTAssertEqual(model.producerVersion, expected.producerVersion)
        XCTAssertEqual(model.domain, expected.domain)
        XCTAssertEqual(model.modelVersion, expected.modelVersion)
        XCTAssertEqual(model.docString, expected.docString)
        XCTAssertEqual(model.metadata, expected.metadata.map { ONNXMetadataEntry(key: $0.key, value: $0.value) })
        XCTAssertEqual(model.graph.name, expected.graphName)
        XCTAssertEqual(model.graph.docString, expected.graphDocString)
    }

    func testInitializers() throws {
        let model = try Self.load(), expected = try Self.manifest()
        XCTAssertEqual(model.graph.initializers.map(\.name), expected.initializers.map(\.name))
        for (tensor, reference) in zip(model.graph.initializers, expected.initializers) {
            XCTAssertEqual(tensor.dataType.rawValue, reference.dataType, tensor.name)
            XCTAssertEqual(tensor.dims, reference.dims, tensor.name)
            XCTAssertEqual(tensor.elementCount, reference.dims.reduce(1, *), tensor.name)
            if let bits = reference.floatBits {
                let floats = try tensor.floats()
                XCTAssertEqual(floats.map(\.bitPattern), bits, "\(tensor.name): \(floats)")
            } else {
                XCTAssertThrowsError(try tensor.floats(), tensor.name)
            }
            if let ints = reference.int64s {
                XCTAssertEqual(try tensor.int64s(), ints, tensor.name)
            } else {
                XCTAssertThrowsError(try tensor.int64s(), tensor.name) { error in
                    XCTAssertTrue("\(error)".contains("tensor '\(tensor.name)'"), "\(error)")
                }
            }
        }
        // The storage forms the fixture promises.
        let byName = Dictionary(uniqueKeysWithValues: model.graph.initializers.map { ($0.name, $0) })
        XCTAssertEqual(byName["conv.bias"]?.data.fieldLabelForTest, "float_data")
        XCTAssertEqual(byName["half.typed"]?.data.fieldLabelForTest, "int32_data")
        XCTAssertEqual(byName["shape.int64"]?.data.fieldLabelForTest, "int64_data")
        XCTAssertEqual(byName["dbl"]?.data.fieldLabelForTest, "double_data")
        XCTAssertEqual(byName["ext.weight"]?.data.fieldLabelForTest, "raw_data")
        XCTAssertEqual(byName["scalar"]?.dims, [])
    }

    func testNodesAndAttributes() throws {
        let model = try Self.load(), expected = try Self.manifest()
        XCTAssertEqual(model.graph.nodes.count, expected.nodes.count)
        for (node, reference) in zip(model.graph.nodes, expected.nodes) {
            XCTAssertEqual(node.name, reference.name)
            XCTAssertEqual(node.opType, reference.opType)
            XCTAssertEqual(node.domain, reference.domain)
            XCTAssertEqual(node.inputs, reference.inputs)
            XCTAssertEqual(node.outputs, reference.outputs)
            XCTAssertEqual(node.docString, reference.docString)
            XCTAssertEqual(node.attributes.map(\.name), reference.attributes.map(\.name))
            for attributeReference in reference.attributes {
                let attribute = try XCTUnwrap(node.attribute(attributeReference.name))
                try check(attribute, attributeReference, node: node.name)
            }
        }
    }

    private func check(_ attribute: ONNXAttribute, _ reference: Manifest.Attribute, node: String) throws {
        let label = "\(node).\(attribute.name)"
        switch attribute.value {
        case let .float(v):
            XCTAssertEqual(reference.type, 1, label); XCTAssertEqual([v.bitPattern], reference.floatBits, label)
        case let .int(v):
            XCTAssertEqual(reference.type, 2, label); XCTAssertEqual([v], reference.ints, label)
        case let .string(v):
            XCTAssertEqual(reference.type, 3, label); XCTAssertEqual([String(decoding: v, as: UTF8.self)], reference.strings, label)
            XCTAssertEqual(attribute.stringValue, reference.strings?.first)
        case let .tensor(t):
            XCTAssertEqual(reference.type, 4, label); XCTAssertEqual([t.name], reference.tensorNames, label)
            XCTAssertEqual(try t.floats().map(\.bitPattern), reference.floatBits, label)
        case let .floats(v):
            XCTAssertEqual(reference.type, 6, label); XCTAssertEqual(v.map(\.bitPattern), reference.floatBits, label)
        case let .ints(v):
            XCTAssertEqual(reference.type, 7, label); XCTAssertEqual(v, reference.ints, label)
        case let .strings(v):
            XCTAssertEqual(reference.type, 8, label); XCTAssertEqual(v.map { String(decoding: $0, as: UTF8.self) }, reference.strings, label)
        case let .tensors(v):
            XCTAssertEqual(reference.type, 9, label); XCTAssertEqual(v.map(\.name), reference.tensorNames, label)
            XCTAssertEqual(try v.flatMap { try $0.floats() }.map(\.bitPattern), reference.floatBits, label)
        case .unsupported:
            XCTFail("\(label): unexpected opaque attribute")
        }
    }

    func testValueInfo() throws {
        let model = try Self.load(), expected = try Self.manifest()
        func text(_ shape: [ONNXDimension]?) -> [String]? {
            shape?.map { dim in
                switch dim {
                case let .value(v): return "\(v)"
                case let .symbolic(s): return "$" + s
                case .unknown: return "?"
                }
            }
        }
        for (actual, reference) in [(model.graph.inputs, expected.inputs), (model.graph.outputs, expected.outputs),
                                    (model.graph.valueInfo, expected.valueInfo)] {
            XCTAssertEqual(actual.map(\.name), reference.map(\.name))
            for (info, ref) in zip(actual, reference) {
                XCTAssertEqual(info.elementType?.rawValue, ref.elementType, info.name)
                XCTAssertEqual(text(info.shape), ref.shape, info.name)
            }
        }
    }

    func testDecodingFromMemoryRefusesExternalData() throws {
        let bytes = try FixturePaths.data("onnx/small_model.onnx")
        XCTAssertThrowsError(try ONNXModel.decode(bytes, externalDataDirectory: nil)) { error in
            let error = error as? ONNXError
            XCTAssertEqual(error?.kind, .externalData)
            XCTAssertTrue(error?.description.contains("graph.initializer[13] 'ext.weight'") ?? false, "\(String(describing: error))")
        }
    }
}

extension ONNXTensorData {
    var fieldLabelForTest: String {
        switch self {
        case .raw: return "raw_data"
        case .floatData: return "float_data"
        case .int32Data: return "int32_data"
        case .int64Data: return "int64_data"
        case .doubleData: return "double_data"
        case .uint64Data: return "uint64_data"
        case .stringData: return "string_data"
        }
    }
}
