import Influence
import Support
/// How `weakspot run` prints predictions: text blocks as they stream, a summary, or one JSON
/// document.
enum PredictionText {
    /// The input's source, then one indented line per class: index, probability, name.
    /// `label 285` follows the source when the input has a label.
    static func block(_ prediction: Prediction, names: [String]?) -> String {
        var lines = [prediction.source + (prediction.label.map { "  (label \($0))" } ?? "")]
        for (index, probability) in prediction.top {
            var line = "  " + String(index).leftPadded(to: 5) + "  " + NumberText.fixed(probability, decimals: 4)
            if let name = name(index, names) { line += "  " + name }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    static func summary(_ result: InferenceResult, top: Int, logitsPath: String?) -> [String] {
        var lines: [String] = [""]
        var head = "\(result.count) input\(result.count == 1 ? "" : "s")"
        if !result.skipped.isEmpty { head += ", \(result.skipped.count) skipped" }
        lines.append(head)
        if let correct = result.correct {
            let n = result.count
            var accuracy = "accuracy: top-1 \(NumberText.fixed(Double(correct.top1) / Double(n), decimals: 4)) (\(correct.top1)/\(n))"
            if top > 1 {
                accuracy += ", top-\(top) \(NumberText.fixed(Double(correct.topK) / Double(n), decimals: 4)) (\(correct.topK)/\(n))"
            }
            lines.append(accuracy)
        }
        lines.append("model output: \(result.outputKind.displayName)")
        if let logitsPath {
            lines.append("logits: \(logitsPath) (\(([result.count] + result.outputShape).map(String.init).joined(separator: "x")) float32, the model's \(result.outputKind.rawValue) as output)")
        }
        return lines
    }

    /// `{"accuracy": {...}?, "count", "data", "logits"?, "model", "outputKind", "predictions": [{"label"?,
    /// "source", "top": [{"class", "name"?, "probability"}]}], "schema": "weakspot.run/1",
    /// "skipped": [{"path", "reason"}]}`.
    /// Names the document's layout (`weakspot run --format json`, the demo's predictions.json).
    static let schema = "weakspot.run/1"

    static func json(_ result: InferenceResult, model: String, data: String, names: [String]?, top: Int, logitsPath: String?) -> JSONValue {
        var document: [String: JSONValue] = [
            "schema": .string(schema),
            "model": .string(model),
            "data": .string(data),
            "count": .int(result.count),
            "outputKind": .string(result.outputKind.rawValue),
            "predictions": .array(result.predictions.map { prediction in
                var entry: [String: JSONValue] = [
                    "source": .string(prediction.source),
                    "top": .array(prediction.top.map { index, probability in
                        var item: [String: JSONValue] = ["class": .int(index), "probability": .double(probability)]
                        if let name = name(index, names) { item["name"] = .string(name) }
                        return .object(item)
                    }),
                ]
                if let label = prediction.label { entry["label"] = .int(label) }
                return .object(entry)
            }),
            "skipped": .array(result.skipped.map { ["path": .string($0.path), "reason": .string($0.reason)] }),
        ]
        if let correct = result.correct {
            let n = Double(result.count)
            document["accuracy"] = ["top1": .double(Double(correct.top1) / n), "topK": .double(Double(correct.topK) / n), "k": .int(top)]
        }
        if let logitsPath { document["logits"] = .string(logitsPath) }
        return .object(document)
    }

    static func name(_ index: Int, _ names: [String]?) -> String? {
        guard let names, names.indices.contains(index) else { return nil }
        return names[index]
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
