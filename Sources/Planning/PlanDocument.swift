import ChannelGroups
import Influence
import NetworkIR
import Support

/// `plan.json` (schema `weakspot.plan/1`, docs/plan.md): the removals in the layer-group form
/// `weakspot prune` reads, costs before and after, predicted and measured metrics side by side.
public enum PlanDocument {
    public static let schema = Plan.schema

    /// Damage measured before fine-tuning predicts accuracy after fine-tuning only weakly
    /// (Feng et al. 2024); every plan says so where scripts and people read it.
    /// Said on standard error by `plan` without `--data`: its metrics are the report's sums, not a measurement.
    public static let unverifiedWarning = "warning: no --data: nothing was verified; the plan's predicted metrics add up each group's own influence from the report, and removals interact: give --data to measure the pruned model"
    public static let caveat = "Measured damage is before fine-tuning; it is a weak predictor of accuracy after fine-tuning (Feng et al. 2024)."

    /// The plan document of `result`, as `plan` writes it.
    public static func json(result: PlanResult, graph: Graph, layerGroups: [LayerGroup], model: JSONValue, settings: JSONValue,
                            data: JSONValue) -> JSONValue {
        plan(result: result, graph: graph, layerGroups: layerGroups, model: model, settings: settings, data: data).json
    }

    /// The typed plan of `result`: per layer group the removed channels, per layer the costs.
    public static func plan(result: PlanResult, graph: Graph, layerGroups: [LayerGroup], model: JSONValue, settings: JSONValue,
                            data: JSONValue) -> Plan {
        let removed = Set(result.removed)
        var groups: [Plan.Group] = []
        for lg in layerGroups {
            let indices = lg.dependencyGroups.enumerated().filter { removed.contains($0.element) }.map(\.offset)
            guard !indices.isEmpty else { continue }
            groups.append(Plan.Group(id: lg.id, layers: lg.producers.map { graph.nodes[$0].name }, channels: lg.channels, removed: indices))
        }
        let afterByName = Dictionary(result.after.layers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var layers: [Plan.Layer] = []
        for layer in result.before.layers where layer.macs > 0 || layer.params > 0 {
            let after = afterByName[layer.name]
            let channelsBefore = layer.outputShape.count >= 2 ? layer.outputShape[1] : 0
            let channelsAfter = (after?.outputShape.count ?? 0) >= 2 ? after!.outputShape[1] : 0
            layers.append(Plan.Layer(name: layer.name, op: layer.op, channelsBefore: channelsBefore, channelsAfter: channelsAfter,
                                     paramsBefore: layer.params, paramsAfter: after?.params ?? 0,
                                     macsBefore: layer.macs, macsAfter: after?.macs ?? 0))
        }
        return Plan(model: model, data: data, settings: settings,
                    paramsBefore: result.before.params, paramsAfter: result.after.params,
                    macsBefore: result.before.macs, macsAfter: result.after.macs,
                    figures: result.figures, removedGroups: result.removed.count,
                    groups: groups, layers: layers, note: caveat)
    }
}
