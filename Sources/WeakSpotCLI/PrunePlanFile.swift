import ChannelGroups
import Foundation
import NetworkIR
import Planning
import Support

/// The part of `plan.json` (schema `weakspot.plan/1`) that `prune` reads: the model it was made
/// for and, per layer group, the channels to remove (`Plan.groups(of:)`, the same mapping `plan`
/// writes with). Other keys are ignored, so a hand-written plan may hold only `groups`.
///
/// `groups`: [{`id`: layer-group id, `layers`: [producer node names, node order], `channels`: n,
/// `removed`: [channel indices within the layer group, ascending]}]. A layer group is the set of
/// dependency groups with the same member producers (`DependencyAnalysis.layerGroups()`).
struct PrunePlanFile {
    var path: String
    var modelSHA256: String?
    var groups: [Plan.Group]

    static let schema = Plan.schema

    /// Reads and checks the file's shape; every error names the file and the place.
    static func read(path: String, limits: JSONLimits = JSONLimits()) throws(CLIError) -> PrunePlanFile {
        try parse(String(decoding: JSONFileOptions.contents(of: path, limits: limits), as: UTF8.self), path: path, maxDepth: limits.maxDepth)
    }

    /// Checks plan text already in memory; `path` only names it in errors. Split from `read` so
    /// the fuzz target `plan` reaches the same checks without a file.
    static func parse(_ text: String, path: String, maxDepth: Int = JSONLimits().maxDepth) throws(CLIError) -> PrunePlanFile {
        let json: JSONValue
        do { json = try JSONValue.parse(text, maxDepth: maxDepth) } catch { throw CLIError.input("\(path): not JSON: \(error)") }
        guard json.objectValue != nil else { throw CLIError.input("\(path): expected a JSON object") }
        guard let schema = json["schema"]?.stringValue else { throw CLIError.input("\(path): expected \"schema\": \"\(Self.schema)\"") }
        guard schema == Self.schema else { throw CLIError.input("\(path): schema: expected \"\(Self.schema)\", got \"\(schema)\"") }
        do {
            return PrunePlanFile(path: path, modelSHA256: try Plan.modelSHA256(of: json), groups: try Plan.groups(of: json))
        } catch {
            throw CLIError.input("\(path): \(error.description)")
        }
    }

    /// The dependency groups to remove, after checking every entry against the model's layer
    /// groups: same layers, same channel count, prunable, not every channel.
    func dependencyGroups(graph: Graph, analysis: DependencyAnalysis) throws(CLIError) -> Set<Int> {
        let layerGroups = analysis.layerGroups()
        var result = Set<Int>()
        for entry in groups {
            let place = "\(path): group \(entry.id)"
            guard entry.id < layerGroups.count else {
                throw CLIError.input("\(place): unknown group (the model has \(layerGroups.count) layer groups, 0..<\(layerGroups.count))")
            }
            let lg = layerGroups[entry.id]
            let layers = lg.producers.map { graph.nodes[$0].name }
            guard entry.layers == layers else {
                throw CLIError.input("\(place): layers \(entry.layers) do not match the model's \(layers)")
            }
            guard entry.channels == lg.channels else {
                throw CLIError.input("\(place): channels \(entry.channels) does not match the model's \(lg.channels)")
            }
            guard entry.removed.count < lg.channels else {
                throw CLIError.input("\(place): removes every channel of \(layers.joined(separator: ", ")); keep at least one")
            }
            if !entry.removed.isEmpty, let blocked = lg.dependencyGroups.first(where: { !analysis.groups[$0].prunable }) {
                throw CLIError.input("\(place): not prunable (dependency group \(blocked) reaches an operator whose channels WeakSpot cannot follow)")
            }
            for c in entry.removed { result.insert(lg.dependencyGroups[c]) }
        }
        return result
    }
}
