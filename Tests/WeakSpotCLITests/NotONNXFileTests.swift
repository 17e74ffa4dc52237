import Foundation
import TestSupport
import XCTest

/// Files people pass as the model that are not ONNX (Fixtures/not_onnx/, made by
/// make_import_fixtures.py): each exits 2 with one line saying what the file is and how to get
/// an ONNX model, instead of protobuf jargon.
final class NotONNXFileTests: XCTestCase {
    static let expected: [(file: String, fragments: [String])] = [
        ("checkpoint.pt", ["PyTorch checkpoint (torch.save)", "torch.onnx.export(model, example, 'model.onnx')"]),
        ("legacy_checkpoint.pth", ["Python pickle", "torch.onnx.export"]),
        ("torchscript.pt", ["TorchScript archive (torch.jit.save)", "torch.jit.load", "torch.onnx.export"]),
        ("model.h5", ["Keras/HDF5 model (.h5)", "tf2onnx"]),
        ("model.keras", ["Keras model (.keras)", "tf2onnx"]),
        ("model.tflite", ["TensorFlow Lite model", "--tflite"]),
        ("saved_model", ["TensorFlow SavedModel folder", "--saved-model"]),
        ("saved_model/saved_model.pb", ["graph of a TensorFlow SavedModel", "--saved-model"]),
        ("frozen_graph.pb", ["TensorFlow GraphDef (.pb)", "--graphdef"]),
        ("photo.png", ["PNG image, not an ONNX model", "--data"]),
        ("photo.jpg", ["JPEG image", "--data"]),
        ("photo.gif", ["GIF image", "--data"]),
        ("README.md", ["a text file, not an ONNX file"]),
        ("labels.json", ["a JSON file, not an ONNX file"]),
        ("archive.zip", ["a zip archive, not an ONNX file"]),
        ("no_graph.onnx", ["has no graph", "not an ONNX model (ModelProto)"]),
    ]

    func testEveryKindIsNamedWithTheWayToExport() throws {
        let folder = FixturePaths.path("not_onnx")
        let present = try FileManager.default.contentsOfDirectory(atPath: folder)
        XCTAssertEqual(present.count, Self.expected.count - 1, "one test case per corpus file (+ the SavedModel's inner .pb)")
        for (file, fragments) in Self.expected {
            for command in [["count"], ["run", "--data", "synthetic:1"]] {
                let result = weakspot([command[0], folder + "/" + file] + command.dropFirst())
                XCTAssertEqual(result.code, 2, "\(file): \(result.error)")
                XCTAssertTrue(result.error.contains(folder + "/" + file + ": "), "\(file): \(result.error)")
                for fragment in fragments {
                    XCTAssertTrue(result.error.contains(fragment), "\(file): missing '\(fragment)' in: \(result.error)")
                }
                XCTAssertFalse(result.error.contains("invalid field number"), "\(file): \(result.error)")
                XCTAssertEqual(result.error.split(separator: "\n").count, 1, "\(file): \(result.error)")
            }
        }
    }
}
