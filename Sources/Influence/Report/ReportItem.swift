import Support
/// One item of a report as the commands that read reports see it: the fields they act on, typed,
/// read by one mapping that refuses a missing or mistyped field by naming the item and the key
/// (no `?? 0` defaults downstream). The object itself stays in `json` for the parts shown as is.
public struct ReportItem: Sendable, Equatable {
    public struct Influence: Sendable, Equatable {
        /// nil when the measurement was not finite (written as JSON null).
        public var mean: Double?
        public var std: Double?
        public var ciLow: Double?
        public var ciHigh: Double?
        public var n: Int
    }

    public var id: String
    public var index: Int
    public var kind: ItemKind
    public var layer: String
    public var channel: Int?
    public var group: Int?
    public var params: Int
    public var macs: Int
    /// nil in a `--measure none` report (JSON null): nothing was measured.
    public var influence: Influence?
    /// The mean of every metric measured (`kl`, `mse`, `top1`, …) at the item's last level;
    /// empty in a `--measure none` report.
    public var metrics: [String: Double]
    /// nil in a `--measure none` report: weak is a claim about measured influence.
    public var weak: Bool?
    /// nil in a shard being merged (ranks are given when the report is assembled).
    public var rank: Int?
    public var json: JSONValue

    /// Reads `items[position]`; errors name the place (`items[12].influence.mean`).
    public init(json: JSONValue, position: Int) throws(InfluenceError) {
        let place = "items[\(position)]"
        func field(_ key: String) throws(InfluenceError) -> JSONValue {
            guard let value = json[key] else { throw InfluenceError("\(place).\(key): expected a value, got nothing") }
            return value
        }
        func string(_ key: String) throws(InfluenceError) -> String {
            guard let s = try field(key).stringValue else { throw InfluenceError("\(place).\(key): expected a string") }
            return s
        }
        func integer(_ value: JSONValue, _ name: String) throws(InfluenceError) -> Int {
            guard let i = value.intValue else { throw InfluenceError("\(place).\(name): expected an integer, got \(value.rendered(pretty: false))") }
            return i
        }
        func optionalInteger(_ key: String) throws(InfluenceError) -> Int? {
            let value = try field(key)
            return value == .null ? nil : try integer(value, key)
        }
        func number(_ value: JSONValue?, _ name: String) throws(InfluenceError) -> Double? {
            guard let value, value != .null else { return nil }
            guard let d = value.doubleValue else { throw InfluenceError("\(place).\(name): expected a number or null, got \(value.rendered(pretty: false))") }
            return d
        }
        id = try string("id")
        index = try integer(try field("index"), "index")
        guard let k = ItemKind(rawValue: try string("kind")) else { throw InfluenceError("\(place).kind: expected channel, group, layer or tensor") }
        kind = k
        layer = try string("layer")
        channel = try optionalInteger("channel")
        group = try optionalInteger("group")
        params = try integer(try field("params"), "params")
        macs = try integer(try field("macs"), "macs")
        let i = try field("influence")
        if i == .null {
            influence = nil
        } else {
            guard let n = i["n"] else { throw InfluenceError("\(place).influence.n: expected an integer, got nothing") }
            guard i["mean"] != nil else { throw InfluenceError("\(place).influence.mean: expected a number or null, got nothing") }
            influence = Influence(mean: try number(i["mean"], "influence.mean"), std: try number(i["std"], "influence.std"),
                                  ciLow: try number(i["ciLow"], "influence.ciLow"), ciHigh: try number(i["ciHigh"], "influence.ciHigh"),
                                  n: try integer(n, "influence.n"))
        }
        var metrics: [String: Double] = [:]
        for (key, value) in json["metrics"]?.objectValue ?? [:] {
            if let d = try number(value, "metrics.\(key)") { metrics[key] = d }
        }
        self.metrics = metrics
        let w = try field("weak")
        guard w == .null || w.boolValue != nil else { throw InfluenceError("\(place).weak: expected true, false or null") }
        weak = w.boolValue
        rank = json["rank"].map { $0 == .null ? nil : $0.intValue } ?? nil
        self.json = json
        if kind == .group && group == nil { throw InfluenceError("\(place).group: expected the group index of a group item, got null") }
    }

    /// Every item of a report, in file order.
    public static func all(of report: JSONValue) throws(InfluenceError) -> [ReportItem] {
        guard let items = report["items"]?.arrayValue else { throw InfluenceError("items: expected an array") }
        var result: [ReportItem] = []
        for (position, item) in items.enumerated() { result.append(try ReportItem(json: item, position: position)) }
        return result
    }
}
