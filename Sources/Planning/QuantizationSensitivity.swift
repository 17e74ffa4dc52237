import NetworkIR
import Quantization
import Support

/// Each quantizable layer's damage at each bit width: the table `plan --quantize` chooses from.
/// Measured (a report of `profile --items layers --perturb quantize:…`: every width's mean
/// metrics on real inputs) or, for comparison, the usual cheap proxy: the relative squared error
/// of the rounded weights, ‖W − Q_B(W)‖² / ‖W‖², which sees the weights and not what the network
/// does with them.
public struct QuantizationSensitivity: Sendable {
    public struct Layer: Sendable {
        public var name: String
        public var op: String
        public var params: Int
        /// Scales the layer's weight carries (its output channels, or 1 per tensor).
        public var scales: Int
        /// What ranks the widths, by bits.
        public var damage: [Int: Double]
        /// The report's mean metrics at each width (kl, mse, top1), when measured.
        public var measured: [Int: [String: Double]]
    }

    public var layers: [Layer]
    /// The bit widths, most first.
    public var ladder: [Int]

    /// The measured table of `report`, ranked by the report's metric (kl unless it is mse or top1).
    /// Every layer item of the report must carry a bits sweep.
    public static func measured(report: JSONValue, graph: Graph, granularity: QuantizationGranularity) throws(PlanInputError) -> QuantizationSensitivity {
        guard report["settings"]?["perturb"]?.stringValue?.hasPrefix("quantize:") == true else {
            throw PlanInputError("plan --quantize needs a report of `profile --items layers --perturb quantize:8,6,4,…`; this report's perturbation is '\(report["settings"]?["perturb"]?.stringValue ?? "missing")'")
        }
        let reportMetric = report["settings"]?["metric"]?.stringValue
        let metric: String = ["kl", "mse", "top1"].first { $0 == reportMetric } ?? "kl"
        let quantizable = Dictionary(QuantizableLayer.all(in: graph).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var layers: [Layer] = [], ladder: Set<Int> = []
        for (i, item) in (report["items"]?.arrayValue ?? []).enumerated() where item["kind"]?.stringValue == "layer" {
            guard let name = item["layer"]?.stringValue, let q = quantizable[name] else {
                throw PlanInputError("items[\(i)]: layer '\(item["layer"]?.stringValue ?? "?")' is not a Conv, Gemm or MatMul with a constant weight in this model")
            }
            guard let sweep = item["sweep"]?.arrayValue, !sweep.isEmpty else { throw PlanInputError("items[\(i)].sweep: expected the layer's bits sweep") }
            var damage: [Int: Double] = [:], measured: [Int: [String: Double]] = [:]
            for (k, point) in sweep.enumerated() {
                guard let bits = point["bits"]?.intValue, let value = point[metric]?.doubleValue else {
                    throw PlanInputError("items[\(i)].sweep[\(k)]: expected bits and \(metric)")
                }
                damage[bits] = value
                measured[bits] = Dictionary(uniqueKeysWithValues: ["kl", "mse", "top1"].compactMap { m in point[m]?.doubleValue.map { (m, $0) } })
            }
            if !ladder.isEmpty && Set(damage.keys) != ladder {
                throw PlanInputError("items[\(i)].sweep: bit widths \(damage.keys.sorted(by: >)) differ from the other layers' \(ladder.sorted(by: >))")
            }
            ladder = Set(damage.keys)
            layers.append(Layer(name: name, op: graph.nodes[q.node].op.onnxName, params: q.params, scales: scaleCount(q, graph: graph, granularity),
                                damage: damage, measured: measured))
        }
        guard !layers.isEmpty else { throw PlanInputError("the report has no layer items: profile with --items layers --perturb quantize:8,6,4,…") }
        return QuantizationSensitivity(layers: layers, ladder: ladder.sorted(by: >))
    }

    /// The weight-error proxy over the same layers and widths as `table` (its measured means are
    /// kept, so predicted and measured can still be shown side by side).
    public static func weightError(like table: QuantizationSensitivity, graph: Graph, granularity: QuantizationGranularity) -> QuantizationSensitivity {
        var result = table
        let quantizable = Dictionary(QuantizableLayer.all(in: graph).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for i in result.layers.indices {
            let q = quantizable[result.layers[i].name]!
            let w = graph.constants[q.weight]!
            let energy = w.storage.reduce(0.0) { $0 + Double($1) * Double($1) }
            for bits in table.ladder {
                let r = QuantizedWeights(w, bits: bits, axis: granularity == .channel ? q.axis : nil).dequantized
                var error = 0.0
                for (a, b) in zip(w.storage, r.storage) { error += (Double(a) - Double(b)) * (Double(a) - Double(b)) }
                result.layers[i].damage[bits] = energy > 0 ? error / energy : 0
            }
        }
        return result
    }

    /// The bits of the float rung: a layer whose weights stay float32.
    public static let floatBits = 32

    /// The table with a rung above its most bits where a layer's weights stay float
    /// (`plan --float-rung`): 32 bits, no damage — a float weight is the float model's, so the
    /// measurement is known without running it (the sweep measures weights alone: with quantized
    /// activations the plan still quantizes a float-rung layer's output, as it does every
    /// planned layer's, and the joint verification measures that). The greedy then starts with
    /// every layer float and moves down until the target holds.
    public func withFloatRung() -> QuantizationSensitivity {
        guard ladder.first != Self.floatBits else { return self }
        var result = self
        result.ladder = [Self.floatBits] + ladder
        for i in result.layers.indices {
            result.layers[i].damage[Self.floatBits] = 0
            let names = Set(result.layers[i].measured.values.flatMap(\.keys))
            result.layers[i].measured[Self.floatBits] = Dictionary(uniqueKeysWithValues: names.map { ($0, 0.0) })
        }
        return result
    }

    static func scaleCount(_ q: QuantizableLayer, graph: Graph, _ granularity: QuantizationGranularity) -> Int {
        granularity == .channel ? graph.constants[q.weight]!.shape[q.axis] : 1
    }
}
