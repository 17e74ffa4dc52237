import Foundation

/// Recognises the files people pass as a model that are not ONNX: a PyTorch checkpoint, a
/// TorchScript archive, a Keras, TensorFlow or TFLite model, an image, a text file. Protobuf
/// jargon ("invalid field number 0") does not tell a PyTorch user that the model must be
/// exported first; these messages say what the file is and the one call that exports it.
///
/// Signatures are checked before protobuf decoding only where no ONNX file can carry them (zip,
/// HDF5, PNG, JPEG, GIF, TFLite, pickle); text and TensorFlow protobufs are named only after
/// decoding failed or found no graph, since a `.pb` GraphDef is protobuf too.
public enum ForeignModelFile {
    static let onnxExport = "torch.onnx.export(model, example, 'model.onnx')"

    /// What the bytes certainly are, when that is not ONNX.
    public static func identify(_ bytes: [UInt8]) -> String? {
        func starts(_ signature: [UInt8], at offset: Int = 0) -> Bool {
            bytes.count >= offset + signature.count && Array(bytes[offset..<(offset + signature.count)]) == signature
        }
        if starts([0x50, 0x4B, 0x03, 0x04]) || starts([0x50, 0x4B, 0x05, 0x06]) { return zipArchive(bytes) }
        if starts([0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]) {
            return "this is a Keras/HDF5 model (.h5), not an ONNX file; convert it with tf2onnx: tf2onnx.convert.from_keras(keras.models.load_model('model.h5'), output_path='model.onnx')"
        }
        if starts(Array("TFL3".utf8), at: 4) {
            return "this is a TensorFlow Lite model, not an ONNX file; convert it with: python -m tf2onnx.convert --tflite model.tflite --output model.onnx"
        }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return image("PNG") }
        if starts([0xFF, 0xD8, 0xFF]) { return image("JPEG") }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return image("GIF") }
        if bytes.count >= 2, bytes[0] == 0x80, (2...5).contains(bytes[1]) {
            return "this is a Python pickle (a legacy torch.save checkpoint), not an ONNX file; load the model in PyTorch and export it with \(onnxExport)"
        }
        return nil
    }

    /// What a file that failed to decode as ONNX (or decoded without a graph) probably is: a
    /// TensorFlow protobuf by its name, or text. Nil when nothing is recognised.
    public static func identifyUndecodable(_ bytes: [UInt8], fileName: String) -> String? {
        let base = (fileName as NSString).lastPathComponent.lowercased()
        if base == "saved_model.pb" {
            return "this is the graph of a TensorFlow SavedModel, not an ONNX file; convert the SavedModel folder with: python -m tf2onnx.convert --saved-model FOLDER --output model.onnx"
        }
        if base.hasSuffix(".pb") || base.hasSuffix(".pbtxt") {
            return "this looks like a TensorFlow GraphDef (.pb), not an ONNX file; convert it with: python -m tf2onnx.convert --graphdef \(base) --inputs INPUT:0 --outputs OUTPUT:0 --output model.onnx"
        }
        if let kind = textKind(bytes) {
            return "this is \(kind), not an ONNX file; the model must be a binary .onnx file (export a PyTorch model with \(onnxExport))"
        }
        return nil
    }

    /// What a folder passed as the model is, when recognised (a TensorFlow SavedModel).
    public static func identifyFolder(_ path: String) -> String? {
        guard FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("saved_model.pb")) else { return nil }
        return "this is a TensorFlow SavedModel folder, not an ONNX file; convert it with: python -m tf2onnx.convert --saved-model \(path) --output model.onnx"
    }

    static func image(_ format: String) -> String {
        "this is a \(format) image, not an ONNX model; pass the model (.onnx) first and images with --data"
    }

    /// A zip archive: PyTorch checkpoint, TorchScript, Keras 3, or another archive. The entry
    /// names sit in local headers at the start and in the central directory at the end, so both
    /// ends are searched (bounded, so a large checkpoint costs no more than a small one).
    static func zipArchive(_ bytes: [UInt8]) -> String {
        let window = 1 << 20
        let head = Array(bytes.prefix(window)), tail = Array(bytes.suffix(window))
        func has(_ name: String) -> Bool {
            let needle = Array(name.utf8)
            return contains(head, needle) || contains(tail, needle)
        }
        if has("constants.pkl") || has("/code/") {
            return "this is a TorchScript archive (torch.jit.save), not an ONNX file; load it with torch.jit.load and export it with \(onnxExport)"
        }
        if has("data.pkl") {
            return "this is a PyTorch checkpoint (torch.save), not an ONNX file; load the model in PyTorch and export it with \(onnxExport)"
        }
        if has("config.json") && (has("model.weights.h5") || has("metadata.json")) {
            return "this is a Keras model (.keras), not an ONNX file; export it with model.export('saved_model') and convert it with: python -m tf2onnx.convert --saved-model saved_model --output model.onnx"
        }
        return "this is a zip archive, not an ONNX file; pass the .onnx file itself (unpack the archive, or export the model with \(onnxExport))"
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, haystack.count >= needle.count else { return false }
        var i = 0
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first, haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }

    /// "a JSON file" or "a text file" when the first 4 KiB are printable UTF-8, else nil.
    static func textKind(_ bytes: [UInt8]) -> String? {
        let sample = Array(bytes.prefix(4096))
        guard !sample.isEmpty else { return nil }
        let printable = sample.allSatisfy { $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 >= 0x20 && $0 != 0x7F }
        // A sample cut in the middle of a multi-byte character is still text.
        guard printable, (0...3).contains(where: { String(validating: sample.dropLast($0), as: UTF8.self) != nil }) else { return nil }
        let first = sample.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        return first == UInt8(ascii: "{") || first == UInt8(ascii: "[") ? "a JSON file" : "a text file"
    }
}
