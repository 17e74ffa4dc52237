/// A set of dependency groups that share exactly the same member producers: the channels of one
/// layer (or of layers tied together, such as a residual stream), which is the unit `plan.json`
/// names. Channel i of a layer group is its i-th dependency group.
public struct LayerGroup: Sendable, Equatable {
    /// 0, 1, 2… in the order of each layer group's lowest dependency-group id.
    public var id: Int
    /// Member producer node indices (`Graph.nodes`), ascending.
    public var producers: [Int]
    /// Dependency-group ids, ascending: channel i of the layer group is `dependencyGroups[i]`.
    public var dependencyGroups: [Int]

    public init(id: Int, producers: [Int], dependencyGroups: [Int]) {
        self.id = id
        self.producers = producers
        self.dependencyGroups = dependencyGroups
    }

    /// The number of channels.
    public var channels: Int { dependencyGroups.count }
}

extension DependencyAnalysis {
    /// Dependency groups gathered by their set of member producers, numbered in the order of
    /// their lowest dependency-group id.
    public func layerGroups() -> [LayerGroup] {
        var indexOfProducers: [[Int]: Int] = [:]
        var result: [LayerGroup] = []
        for (id, group) in groups.enumerated() {
            let producers = Array(Set(group.members.map(\.producer))).sorted()
            if let existing = indexOfProducers[producers] {
                result[existing].dependencyGroups.append(id)
            } else {
                indexOfProducers[producers] = result.count
                result.append(LayerGroup(id: result.count, producers: producers, dependencyGroups: [id]))
            }
        }
        return result
    }
}
