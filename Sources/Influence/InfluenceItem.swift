import ChannelGroups
import NetworkIR

/// What one item is: a producer's channel, a dependency group, a whole layer or a parameter tensor.
public enum ItemKind: String, Sendable, CaseIterable, Comparable {
    case channel, group, layer, tensor
    public static func < (a: ItemKind, b: ItemKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// Where an item's perturbation lands: channels of one activation (NCHW or (N, features)).
public struct AblationTarget: Sendable, Equatable {
    public var value: ValueID
    public var channels: [Int]
}

/// One thing whose influence is measured.
public struct InfluenceItem: Sendable, Equatable {
    /// Stable identifier: `layer#channel`, `group:K`, `layer:NAME`, `tensor:NAME`.
    public var id: String
    /// Position in the full (unsharded) item list: shards and merges sort by it.
    public var index: Int
    public var kind: ItemKind
    /// The ONNX node name of the producer (a group's first member).
    public var layer: String
    /// The producer's output tensor name.
    public var output: String
    public var channel: Int?
    public var group: Int?
    /// What physically removing the item would save (see docs/influence.md).
    public var params: Int
    public var macs: Int
    /// Producer nodes the item covers (one for channels and layers).
    public var producers: [Int]
    /// The channels of each producer the item covers, parallel to `producers`.
    public var producerChannels: [[Int]]
}

/// A glob on node names: `*` any run, `?` one character.
public func globMatches(_ pattern: String, _ text: String) -> Bool {
    let p = Array(pattern), t = Array(text)
    var (pi, ti) = (0, 0)
    var star: Int? = nil, mark = 0
    while ti < t.count {
        if pi < p.count && (p[pi] == "?" || p[pi] == t[ti]) { pi += 1; ti += 1 }
        else if pi < p.count && p[pi] == "*" { star = pi; mark = ti; pi += 1 }
        else if let s = star { pi = s + 1; mark += 1; ti = mark }
        else { return false }
    }
    while pi < p.count && p[pi] == "*" { pi += 1 }
    return pi == p.count
}
