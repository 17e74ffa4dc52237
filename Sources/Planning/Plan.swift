import Support

/// plan.json (`weakspot.plan/1`, docs/plan.md) as a value: `json` writes it and `init(json:)`
/// reads it, one mapping, so what `plan` writes is what `gate` and `prune` read. Reading refuses
/// a missing or mistyped field by naming its place (`groups[2].removed[0]`), never a default.
@dynamicMemberLookup
public struct Plan: Sendable, Equatable {
    /// One layer group with channels removed: the form `weakspot prune` applies.
    public struct Group: Sendable, Equatable {
        /// The layer group's index (`DependencyAnalysis.layerGroups()`).
        public var id: Int
        /// Its producers' node names, in node order.
        public var layers: [String]
        public var channels: Int
        /// Channel indices within the layer group, ascending, each once.
        public var removed: [Int]

        public init(id: Int, layers: [String], channels: Int, removed: [Int]) {
            self.id = id; self.layers = layers; self.channels = channels; self.removed = removed
        }
    }

    /// One layer's cost before and after.
    public struct Layer: Sendable, Equatable {
        public var name: String
        public var op: String
        public var channelsBefore: Int
        public var channelsAfter: Int
        public var paramsBefore: Int
        public var paramsAfter: Int
        public var macsBefore: Int
        public var macsAfter: Int
    }

    /// `{path, sha256}` of the model planned for.
    public var model: JSONValue
    /// `{source, count}` of the inputs the plan was measured on; null without `--data`.
    public var data: JSONValue
    public var settings: JSONValue
    public var paramsBefore: Int
    public var paramsAfter: Int
    public var macsBefore: Int
    public var macsAfter: Int
    /// Predicted and measured damage (nil when not computed, written as null), target and limits,
    /// latencies: the planner's `PlanFigures`, whose fields read as the plan's own.
    public var figures: PlanFigures
    public var removedGroups: Int
    public var groups: [Group]
    public var layers: [Layer]
    public var note: String

    public subscript<T>(dynamicMember path: KeyPath<PlanFigures, T>) -> T { figures[keyPath: path] }

    public static let schema = "weakspot.plan/1"
    /// The metrics a plan records, in this order.
    static let metricNames = ["kl", "mse", "top1", "acc", "loss"]
}

extension Plan {
    /// The document plan.json holds.
    public var json: JSONValue {
        func metrics(_ m: [String: Double]?) -> JSONValue {
            guard let m else { return .null }
            return .object(Dictionary(uniqueKeysWithValues: Self.metricNames.compactMap { k in m[k].map { (k, JSONValue.double($0)) } }))
        }
        func classes(_ c: [Int: Double]?) -> JSONValue {
            guard let c else { return .null }
            return .object(Dictionary(uniqueKeysWithValues: c.map { (String($0.key), JSONValue.double($0.value)) }))
        }
        return .object([
            "schema": .string(Self.schema), "model": model, "data": data, "settings": settings,
            "paramsBefore": .int(paramsBefore), "paramsAfter": .int(paramsAfter), "macsBefore": .int(macsBefore), "macsAfter": .int(macsAfter),
            "predicted": metrics(figures.predicted), "measured": metrics(figures.measured),
            "classAccuracyBefore": classes(figures.classAccuracyBefore), "classAccuracyAfter": classes(figures.classAccuracyAfter),
            "targetMet": .bool(figures.targetMet), "limitsMet": .bool(figures.limitsMet), "backedOff": .bool(figures.backedOff),
            "evaluations": .int(figures.evaluations), "removedGroups": .int(removedGroups),
            "latencyBeforeMs": figures.latencyBeforeMs.map { .double($0) } ?? .null, "latencyAfterMs": figures.latencyAfterMs.map { .double($0) } ?? .null,
            "groups": .array(groups.map(\.json)), "layers": .array(layers.map(\.json)), "note": .string(note),
        ])
    }

    /// Reads a whole plan (the caller has checked `schema`); errors name the key (`macsBefore:
    /// expected an integer`). The costs come first: they are what a plan is most often read for.
    public init(json: JSONValue) throws(PlanInputError) {
        let reader = PlanFieldReader(json, place: "")
        macsBefore = try reader.integer("macsBefore")
        macsAfter = try reader.integer("macsAfter")
        paramsBefore = try reader.integer("paramsBefore")
        paramsAfter = try reader.integer("paramsAfter")
        let (targetMet, limitsMet, backedOff) = (try reader.bool("targetMet"), try reader.bool("limitsMet"), try reader.bool("backedOff"))
        let evaluations = try reader.integer("evaluations")
        removedGroups = try reader.integer("removedGroups")
        figures = PlanFigures(predicted: try reader.metrics("predicted"), measured: try reader.metrics("measured"),
                              classAccuracyBefore: try reader.classes("classAccuracyBefore"), classAccuracyAfter: try reader.classes("classAccuracyAfter"),
                              targetMet: targetMet, limitsMet: limitsMet, backedOff: backedOff, evaluations: evaluations,
                              latencyBeforeMs: try reader.optionalNumber("latencyBeforeMs"), latencyAfterMs: try reader.optionalNumber("latencyAfterMs"))
        groups = try Self.groups(of: json)
        layers = try reader.array("layers").enumerated().map { (i, v) throws(PlanInputError) in try Layer(json: v, place: "layers[\(i)]") }
        model = try reader.objectField("model")
        data = try reader.value("data")
        settings = try reader.objectField("settings")
        note = try reader.string("note")
    }

    /// The `groups` array alone (what `prune` needs: a hand-written plan may hold only this).
    public static func groups(of json: JSONValue) throws(PlanInputError) -> [Group] {
        let reader = PlanFieldReader(json, place: "")
        var seen = Set<Int>()
        var result: [Group] = []
        for (i, item) in try reader.array("groups").enumerated() {
            let group = try Group(json: item, place: "groups[\(i)]")
            guard seen.insert(group.id).inserted else { throw PlanInputError("groups[\(i)]: group \(group.id) appears twice") }
            result.append(group)
        }
        return result
    }

    /// `model.sha256` (lower-cased) when the plan records it: a hand-written plan may not.
    public static func modelSHA256(of json: JSONValue) throws(PlanInputError) -> String? {
        guard let model = json["model"] else { return nil }
        guard model.objectValue != nil else { throw PlanInputError("model: expected an object with path and sha256") }
        guard let s = model["sha256"] else { return nil }
        guard let text = s.stringValue else { throw PlanInputError("model.sha256: expected a string") }
        return text.lowercased()
    }
}

extension Plan.Group {
    public var json: JSONValue {
        .object(["id": .int(id), "layers": .array(layers.map { .string($0) }), "channels": .int(channels), "removed": .array(removed.map { .int($0) })])
    }

    /// Reads and checks one entry: `removed` ascending, unique, within `0..<channels`.
    init(json: JSONValue, place: String) throws(PlanInputError) {
        guard json.objectValue != nil else { throw PlanInputError("\(place): expected an object") }
        guard let id = json["id"]?.intValue, id >= 0 else { throw PlanInputError("\(place).id: expected a non-negative integer") }
        guard let layers = json["layers"]?.arrayValue, layers.allSatisfy({ $0.stringValue != nil }) else {
            throw PlanInputError("\(place).layers: expected an array of node names")
        }
        guard let channels = json["channels"]?.intValue, channels > 0 else { throw PlanInputError("\(place).channels: expected a positive integer") }
        guard let removedJSON = json["removed"]?.arrayValue else { throw PlanInputError("\(place).removed: expected an array of channel indices") }
        var removed: [Int] = []
        for (k, value) in removedJSON.enumerated() {
            guard let c = value.intValue else { throw PlanInputError("\(place).removed[\(k)]: expected an integer") }
            guard c >= 0, c < channels else { throw PlanInputError("\(place).removed[\(k)]: channel \(c) is out of range 0..<\(channels)") }
            if let last = removed.last {
                guard c != last else { throw PlanInputError("\(place).removed[\(k)]: channel \(c) appears twice") }
                guard c > last else { throw PlanInputError("\(place).removed[\(k)]: expected ascending indices, got \(c) after \(last)") }
            }
            removed.append(c)
        }
        self.init(id: id, layers: layers.compactMap(\.stringValue), channels: channels, removed: removed)
    }
}

extension Plan.Layer {
    public var json: JSONValue {
        .object(["name": .string(name), "op": .string(op), "channelsBefore": .int(channelsBefore), "channelsAfter": .int(channelsAfter),
                 "paramsBefore": .int(paramsBefore), "paramsAfter": .int(paramsAfter), "macsBefore": .int(macsBefore), "macsAfter": .int(macsAfter)])
    }

    init(json: JSONValue, place: String) throws(PlanInputError) {
        let reader = PlanFieldReader(json, place: place)
        name = try reader.string("name")
        op = try reader.string("op")
        channelsBefore = try reader.integer("channelsBefore")
        channelsAfter = try reader.integer("channelsAfter")
        paramsBefore = try reader.integer("paramsBefore")
        paramsAfter = try reader.integer("paramsAfter")
        macsBefore = try reader.integer("macsBefore")
        macsAfter = try reader.integer("macsAfter")
    }
}
