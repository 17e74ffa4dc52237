import Support

/// A report (`weakspot.report/1`) as the commands that read reports see it: the fields they act
/// on, typed, read by one mapping after the schema check. A field the schema requires but the
/// document lacks is an error naming the field (never a default), so `rank`, `gate`, `plan` and
/// `merge` cannot disagree on what a report says. The document stays in `json` for the parts
/// written back or shown as is.
public struct Report: Sendable {
    public var json: JSONValue
    /// Every item, in file order; each has a rank.
    public var items: [ReportItem]
    /// `layers[].name`, in the report's (graph) order.
    public var layerNames: [String]
    /// `layers[].macs`, beside `layerNames`.
    public var layerMACs: [Int]
    /// `settings.metric`: the metric the influence is measured in.
    public var metric: String
    /// `model.sha256`: the model file the report was made for.
    public var modelSHA256: String
    /// `model.outputKind`; nil in reports written before it was recorded.
    public var outputKind: OutputKind?
    /// False for a `--measure none` report (`settings.measure`): estimator scores, no influence.
    /// Then every item's influence, rank and weak flag are nil, and so are `hiddenCritical` and
    /// `weakCount`; a command that acts on influence calls `requireMeasured` first.
    public var measured: Bool
    /// `summary.hiddenCritical`; nil when not measured.
    public var hiddenCritical: Int?
    /// `summary.weak` (nil when not measured), `baseline.count` (inputs measured on), and
    /// `timing.seconds` (optional: merged reports have no single duration).
    public var weakCount: Int?
    public var inputs: Int
    public var seconds: Double?

    /// Reads a document that passed the report schema; errors name the place (`settings.metric`).
    public init(json: JSONValue) throws(InfluenceError) {
        func string(_ value: JSONValue?, _ place: String) throws(InfluenceError) -> String {
            guard let s = value?.stringValue else { throw InfluenceError("\(place): expected a string, got \(value?.rendered(pretty: false) ?? "nothing")") }
            return s
        }
        self.json = json
        measured = ProfileReport.isMeasured(json)
        items = try ReportItem.all(of: json)
        // A measured report has every measured field; one of `--measure none` has none of them.
        for (position, item) in items.enumerated() {
            let place = "items[\(position)]"
            if measured {
                if item.rank == nil { throw InfluenceError("\(place).rank: expected an integer, got null") }
                if item.influence == nil { throw InfluenceError("\(place).influence: expected an object, got null (only a --measure none report has none)") }
                if item.weak == nil { throw InfluenceError("\(place).weak: expected true or false, got null") }
            } else if item.rank != nil || item.influence != nil || item.weak != nil {
                throw InfluenceError("\(place): expected null influence, rank and weak in a --measure none report (settings.measure is \"none\")")
            }
        }
        guard let layers = json["layers"]?.arrayValue else { throw InfluenceError("layers: expected an array") }
        var names: [String] = [], macs: [Int] = []
        for (position, layer) in layers.enumerated() {
            names.append(try string(layer["name"], "layers[\(position)].name"))
            guard let m = layer["macs"]?.intValue else { throw InfluenceError("layers[\(position)].macs: expected an integer") }
            macs.append(m)
        }
        layerNames = names
        layerMACs = macs
        metric = try string(json["settings"]?["metric"], "settings.metric")
        modelSHA256 = try string(json["model"]?["sha256"], "model.sha256")
        if let kind = json["model"]?["outputKind"] {
            guard let k = kind.stringValue.flatMap(OutputKind.init(rawValue:)) else {
                throw InfluenceError("model.outputKind: expected logits, probs or log-probs, got \(kind.rendered(pretty: false))")
            }
            outputKind = k
        }
        func integer(_ value: JSONValue?, _ place: String) throws(InfluenceError) -> Int {
            guard let v = value?.intValue else { throw InfluenceError("\(place): expected an integer, got \(value?.rendered(pretty: false) ?? "nothing")") }
            return v
        }
        hiddenCritical = measured ? try integer(json["summary"]?["hiddenCritical"], "summary.hiddenCritical") : nil
        weakCount = measured ? try integer(json["summary"]?["weak"], "summary.weak") : nil
        inputs = try integer(json["baseline"]?["count"], "baseline.count")
        seconds = json["timing"]?["seconds"]?.doubleValue
    }

    /// Refuses a `--measure none` report for a command that acts on measured influence (`rank`,
    /// `gate`, `merge`, `plan --criterion measured`), naming the command.
    public func requireMeasured(by command: String) throws(InfluenceError) {
        guard measured else { throw InfluenceError(ReportWarnings.estimatesOnlyRefusal(command: command)) }
    }

    /// The kinds the report holds, finest first (channel, group, layer, tensor).
    public var kindsPresent: [ItemKind] {
        let present = Set(items.map(\.kind))
        return ItemKind.allCases.filter(present.contains)
    }

    /// The items of one kind in rank order (rank 1, the weakest, first; file order among equal ranks).
    public func ranked(_ kind: ItemKind) -> [ReportItem] {
        items.enumerated().filter { $0.element.kind == kind }
            .sorted { ($0.element.rank ?? .max, $0.offset) < ($1.element.rank ?? .max, $1.offset) }.map(\.element)
    }

    /// `--kind` text (`channel` or `channels`) as a kind the report holds; the error names the
    /// report (`holder`) and lists the kinds it does hold.
    public func kind(named text: String, holder: String = "the report") throws(OptionError) -> ItemKind {
        let singular = text.hasSuffix("s") ? String(text.dropLast()) : text
        guard let kind = ItemKind(rawValue: singular), kindsPresent.contains(kind) else {
            let present = kindsPresent.map(\.rawValue)
            throw OptionError("--kind: \(holder) has \(present.isEmpty ? "no" : present.joined(separator: ", ")) items, not '\(text)'")
        }
        return kind
    }

    /// `agreement.<estimator>.spearman`, nil when the estimator was not compared (or ρ is
    /// undefined, written as null).
    public func spearman(of estimator: EstimatorKind) -> Double? {
        json["agreement"]?[estimator.rawValue]?["spearman"]?.doubleValue
    }

    /// The estimators the report compares with the measurement.
    public var comparedEstimators: [EstimatorKind] {
        EstimatorKind.allCases.filter { json["agreement"]?[$0.rawValue] != nil }
    }
}
