import ChannelGroups
import Influence
import NetworkIR
import Support

/// `plan.json` (schema `weakspot.plan/1`, docs/plan.md): the removals in the layer-group form
/// `weakspot prune` reads, costs before and after, predicted and measured metrics side by side.
public enum PlanDocument {
    public static let schema = "weakspot.plan/1"

    /// Damage measured before fine-tuning predicts accuracy after fine-tuning only weakly
    /// (Feng et al. 2024); every plan says so where scripts and people read it.
    /// Said on standard error by `plan` without `--data`: its metrics are the report's sums, not a measurement.
    public static let unverifiedWarning = "warning: no --data: nothing was verified; the plan's predicted metrics add up each group's own influence from the report, and removals interact: give --data to measure the pruned model"
    public static let caveat = "Measured damage is before fine-tuning; it is a weak predictor of accuracy after fine-tuning (Feng et al. 2024)."

    public static func json(result: PlanResult, graph: Graph, layerGroups: [LayerGroup], model: JSONValue, settings: JSONValue,
                            data: JSONValue) -> JSONValue {
        let removed = Set(result.removed)
        var groups: [JSONValue] = []
        for lg in layerGroups {
            let indices = lg.dependencyGroups.enumerated().filter { removed.contains($0.element) }.map(\.offset)
            guard !indices.isEmpty else { continue }
            groups.append(.object([
                "id": .int(lg.id), "layers": .array(lg.producers.map { .string(graph.nodes[$0].name) }),
                "channels": .int(lg.channels), "removed": .array(indices.map { .int($0) }),
            ]))
        }
        let afterByName = Dictionary(result.after.layers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var layers: [JSONValue] = []
        for layer in result.before.layers where layer.macs > 0 || layer.params > 0 {
            let after = afterByName[layer.name]
            let channelsBefore = layer.outputShape.count >= 2 ? layer.outputShape[1] : 0
            let channelsAfter = (after?.outputShape.count ?? 0) >= 2 ? after!.outputShape[1] : 0
            layers.append(.object([
                "name": .string(layer.name), "op": .string(layer.op), "channelsBefore": .int(channelsBefore), "channelsAfter": .int(channelsAfter),
                "paramsBefore": .int(layer.params), "paramsAfter": .int(after?.params ?? 0),
                "macsBefore": .int(layer.macs), "macsAfter": .int(after?.macs ?? 0),
            ]))
        }
        func metrics(_ m: [String: Double]?) -> JSONValue {
            guard let m else { return .null }
            return .object(Dictionary(uniqueKeysWithValues: ["kl", "mse", "top1", "acc", "loss"].compactMap { k in m[k].map { (k, JSONValue.double($0)) } }))
        }
        func classes(_ c: [Int: Double]?) -> JSONValue {
            guard let c else { return .null }
            return .object(Dictionary(uniqueKeysWithValues: c.map { (String($0.key), JSONValue.double($0.value)) }))
        }
        return .object([
            "schema": .string(schema), "model": model, "data": data, "settings": settings,
            "paramsBefore": .int(result.before.params), "paramsAfter": .int(result.after.params),
            "macsBefore": .int(result.before.macs), "macsAfter": .int(result.after.macs),
            "predicted": metrics(result.predicted), "measured": metrics(result.measured),
            "classAccuracyBefore": classes(result.classAccuracyBefore), "classAccuracyAfter": classes(result.classAccuracyAfter),
            "targetMet": .bool(result.targetMet), "limitsMet": .bool(result.limitsMet), "backedOff": .bool(result.backedOff),
            "evaluations": .int(result.evaluations), "removedGroups": .int(result.removed.count),
            "latencyBeforeMs": result.latencyBeforeMs.map { .double($0) } ?? .null, "latencyAfterMs": result.latencyAfterMs.map { .double($0) } ?? .null,
            "groups": .array(groups), "layers": .array(layers), "note": .string(caveat),
        ])
    }
}
