import Influence
import Foundation
import NetworkIR
import ONNXFormat
import Support

/// `weakspot count MODEL`: parameters and multiply-accumulates per layer, and totals.
enum CountCommand: Command {
    static let spec = CommandSpec(
        name: "count",
        abstract: "Count parameters and multiply-accumulates (MACs) per layer.",
        discussion: """
        Parameters are the elements of the weights each node reads (BatchNormalization's running \
        statistics excluded, as torchvision counts); MACs count Conv, Gemm and MatMul at the \
        input shape (batch 1 unless --input-shape says otherwise). Bytes are what those \
        parameters take in the file: 4 per float32 weight, and for a quantized (QDQ) model the \
        stored integers plus their scales and zero points (docs/quantization.md).
        """,
        usage: "count <model> [--format table|json|csv] [--input-shape 1x3x224x224]",
        arguments: [ArgumentSpec(name: "MODEL", help: "The ONNX model file.")],
        options: [
            .value("format", "format", help: "table, json or csv.", default: "table"),
            ModelOptions.inputShape,
        ] + ModelOptions.limits)

    static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
        let format = try arguments.choice("format", ["table", "json", "csv"], default: "table")
        let inputShape = try ModelOptions.inputShape(arguments)
        let (model, onnx) = try LoadedModel.loadWithONNX(path: arguments.positionals[0], limits: ModelOptions.limits(arguments),
                                                         inputShape: inputShape)
        let report = try CountReport(model: model, onnx: onnx, batch: inputShape?.first ?? 1)
        switch format {
        case "json": console.output.write(report.json.rendered())
        case "csv": console.output.write(report.csv)
        default: console.output.write(report.table)
        }
        return ExitCode.success
    }
}

/// The result of `weakspot count`, in the three output formats.
///
/// JSON: `{"layers": [{"macs", "name", "op", "outputShape", "params"}], "model": {"inputName",
/// "inputShape", "layout", "path"}, "schema": "weakspot.count/1", "totals": {"bytes",
/// "float32Bytes", "macs", "params"}}`, keys sorted. `bytes` is the parameters' stored size,
/// `float32Bytes` 4 per parameter (the two differ for quantized and float16 models).
/// CSV: header `name,op,output_shape,params,macs`, shapes as `1x64x112x112`.
/// Table: a `bytes:` line under the model line; the table itself is unchanged.
struct CountReport {
    /// Names the document's layout, so a script can tell it from a report or a plan.
    static let schema = "weakspot.count/1"
    var path: String
    var inputName: String
    var inputShape: [Int]
    var layout: String
    var cost: ModelCost

    /// `onnx` is the file `model` was imported from, for the stored bytes (nil: float32).
    init(model: LoadedModel, onnx: ONNXModel?, batch: Int) throws(CLIError) {
        guard let input = model.input else { throw CLIError.input("\(model.path): graph: expected an input") }
        path = model.path
        inputName = model.graph.values.indices.contains(input.value) ? model.graph.values[input.value].name : ""
        inputShape = input.shape(batch: batch)
        layout = input.layout.rawValue
        let stored = onnx.map { ParameterBytes.stored(model.graph, model: $0) } ?? [:]
        do { cost = try model.graph.cost(batch: batch, storedBytes: stored) } catch { throw CLIError.input("\(model.path): \(error)") }
    }

    var json: JSONValue {
        let layers: [JSONValue] = cost.layers.map { layer in
            [
                "name": .string(layer.name),
                "op": .string(layer.op),
                "outputShape": .array(layer.outputShape.map { .int($0) }),
                "params": .int(layer.params),
                "macs": .int(layer.macs),
            ]
        }
        return [
            "schema": .string(Self.schema),
            "totals": ["params": .int(cost.params), "macs": .int(cost.macs), "bytes": .int(cost.bytes), "float32Bytes": .int(4 * cost.params)],
            "layers": .array(layers),
            "model": [
                "path": .string(path),
                "inputName": .string(inputName),
                "inputShape": .array(inputShape.map { .int($0) }),
                "layout": .string(layout),
            ],
        ]
    }

    var csv: String {
        var lines = ["name,op,output_shape,params,macs"]
        for layer in cost.layers {
            lines.append([CSV.field(layer.name), CSV.field(layer.op), NumberText.shape(layer.outputShape),
                          String(layer.params), String(layer.macs)].joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    var table: String {
        var table = TextTable(headers: ["layer", "op", "output shape", "params", "MACs"],
                              alignments: [.left, .left, .left, .right, .right])
        table.rows = cost.layers.map { layer in
            [layer.name, layer.op, NumberText.shape(layer.outputShape), NumberText.grouped(layer.params), NumberText.grouped(layer.macs)]
        }
        table.footer = ["total (\(cost.layers.count) layers)", "", "", NumberText.grouped(cost.params), NumberText.grouped(cost.macs)]
        return "\(path): input '\(inputName)' \(NumberText.shape(inputShape)) (\(layout))\n" + bytesLine + "\n\n" + table.rendered()
    }

    /// `bytes: 11,754,248 stored (float32: 46,758,048, 25.1%)`: the parameters' size in the file.
    var bytesLine: String {
        let float = 4 * cost.params
        let share = float == 0 ? "" : ", " + NumberText.fixed(100 * Double(cost.bytes) / Double(float), decimals: 1) + "%"
        return "bytes: \(NumberText.grouped(cost.bytes)) stored (float32: \(NumberText.grouped(float))\(share))"
    }
}

/// RFC 4180 fields: quoted when they hold a comma, quote or line break.
enum CSV {
    static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
