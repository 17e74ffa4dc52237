import ChannelGroups
import Foundation
import NetworkIR
import Support

/// Builds `report.json` (schema `weakspot.report/1`, documented in docs/report.md).
///
/// A report is assembled in two steps so that shards can be merged: the per-item objects are
/// self-contained (their statistics depend only on the item, the inputs and the seed), and
/// `assemble` adds what depends on the whole set — ranks and layer sensitivity curves.
public enum ProfileReport {
    public static let schema = "weakspot.report/1"

    /// The kinds an items array holds, finest first (`ItemKind` order: channel, group, layer, tensor).
    public static func kindsPresent(_ items: [JSONValue]) -> [String] {
        let present = Set(items.compactMap { $0["kind"]?.stringValue })
        return ItemKind.allCases.map(\.rawValue).filter(present.contains)
    }

    /// The finest kind present (channels, else groups…): what agreement, stability and the
    /// summaries compare, since ranks run within a kind.
    public static func finestKind(_ items: [JSONValue]) -> String { kindsPresent(items).first ?? ItemKind.channel.rawValue }

    /// The report file's text: indented, with each item, layer, group and agreement entry on one line.
    public static func text(_ report: JSONValue) -> String { report.rendered(oneLineFrom: 2) }

    /// The per-item JSON objects of a run (without ranks).
    public static func itemObjects(_ m: ProfileMeasurements, options: ProfileOptions, discovery: ItemDiscovery? = nil) -> [JSONValue] {
        let estimators = discovery.map { Estimators(discovery: $0, activations: m.activations, taylor: m.taylor, seed: options.seed) }
        let rawScores = estimators?.channelScores(kinds: options.estimators) ?? [:]
        let channelScores = rawScores.mapValues { byKind in byKind.mapValues { options.normalizer.apply($0) } }
        let groupScores = GroupScoreTable(options: options, rawChannelScores: rawScores)
        return m.measurements.map { measurement in
            let item = measurement.item
            let estimated = estimatorValues(item, options: options, estimators: estimators, channelScores: channelScores, groupScores: groupScores)
            if options.measurement == .estimatesOnly { return estimatesOnlyObject(item, estimators: estimated) }
            // The influence is the chosen metric at the last (largest) level.
            let last = measurement.metrics.last ?? PerInputMetrics(values: [:])
            let values = last.values[options.metric] ?? []
            let stats = InfluenceStatistics(values: values, resamples: options.bootstrapResamples, seed: options.seed ^ stableHash(item.id))
            var metrics: [String: JSONValue] = [:]
            for (k, v) in last.means { metrics[k.rawValue] = .float(Float(v)) }
            var object: [String: JSONValue] = [
                "id": .string(item.id), "index": .int(item.index), "kind": .string(item.kind.rawValue),
                "layer": .string(item.layer), "output": .string(item.output),
                "channel": item.channel.map { .int($0) } ?? .null, "group": item.group.map { .int($0) } ?? .null,
                "params": .int(item.params), "macs": .int(item.macs),
                "influence": .object(["mean": .float(Float(stats.mean)), "std": .float(Float(stats.std)), "ciLow": .float(Float(stats.ciLow)),
                                      "ciHigh": .float(Float(stats.ciHigh)), "n": .int(stats.n)]),
                "metrics": .object(metrics),
                "estimators": .object(estimated),
                "weak": .bool(ReportWarnings.isWeak(ciHigh: Double(Float(stats.ciHigh)), n: stats.n, threshold: options.weakThreshold)), "latent": .string("none"),
            ]
            if let decision = measurement.adaptive {
                // An item decided early carries its decision: the interval of its k values is not the question asked.
                object["adaptive"] = .object(["decision": .string(decision.rawValue), "inputs": .int(stats.n)])
                if decision != .allInputs { object["weak"] = .bool(decision == .weak) }
            }
            if let stability = RankStability.itemObject(values: values, seed: options.seed) { object["stability"] = stability }
            if let damage = ClassDamage.itemObject(accValues: last.values[.acc] ?? [], labels: m.baseline.labels) { object["classDamage"] = damage }
            if case .quantize = options.perturbation {
                // The layer × bits table: each width's means, and the chosen metric's interval.
                object["sweep"] = .array(zip(measurement.levels, measurement.metrics).map { level, metrics in
                    let means = metrics.means
                    let s = InfluenceStatistics(values: metrics.values[options.metric] ?? [], resamples: options.bootstrapResamples,
                                                seed: options.seed ^ stableHash(item.id) ^ UInt64(level))
                    return .object(["bits": .int(Int(level)), "kl": .float(Float(means[.kl] ?? 0)), "mse": .float(Float(means[.mse] ?? 0)),
                                    "top1": .float(Float(means[.top1] ?? 0)), "ciLow": .float(Float(s.ciLow)), "ciHigh": .float(Float(s.ciHigh))])
                })
            } else if measurement.levels != [1] {
                object["sweep"] = .array(zip(measurement.levels, measurement.metrics).map { level, metrics in
                    let means = metrics.means
                    return .object(["sparsity": .float(level), "kl": .float(Float(means[.kl] ?? 0)), "mse": .float(Float(means[.mse] ?? 0)), "top1": .float(Float(means[.top1] ?? 0))])
                })
            }
            return .object(object)
        }
    }

    /// An item of a `--measure none` report: what identifies it and its estimator scores; every
    /// field that only a measurement could fill (influence, metrics, rank, weak, latent) is null,
    /// so no reader can take a zero for a measured value.
    static func estimatesOnlyObject(_ item: InfluenceItem, estimators: [String: JSONValue]) -> JSONValue {
        .object(["id": .string(item.id), "index": .int(item.index), "kind": .string(item.kind.rawValue),
                 "layer": .string(item.layer), "output": .string(item.output),
                 "channel": item.channel.map { .int($0) } ?? .null, "group": item.group.map { .int($0) } ?? .null,
                 "params": .int(item.params), "macs": .int(item.macs),
                 "influence": .null, "metrics": .null, "estimators": .object(estimators),
                 "rank": .null, "weak": .null, "latent": .null])
    }

    /// Whether a report (or a report's header) holds measured influence: false for `--measure none`
    /// (`settings.measure`), true for reports written before that setting existed.
    public static func isMeasured(_ report: JSONValue?) -> Bool {
        report?["settings"]?["measure"]?.stringValue != MeasureMode.estimatesOnly.rawValue
    }

    /// An item's estimator scores: a channel's own, a group's reduced over its parts; normalised
    /// per layer when asked.
    static func estimatorValues(_ item: InfluenceItem, options: ProfileOptions, estimators: Estimators?,
                                channelScores: [Int: [EstimatorKind: [Double]]], groupScores: GroupScoreTable) -> [String: JSONValue] {
        guard let estimators else { return [:] }
        var values: [String: JSONValue] = [:]
        for kind in options.estimators {
            switch item.kind {
            case .channel:
                if let c = item.channel, let s = channelScores[item.producers[0]]?[kind], c < s.count { values[kind.rawValue] = .float(Float(s[c])) }
            case .group:
                if let g = item.group, let v = groupScores.score(g, kind: kind, estimators: estimators) {
                    values[kind.rawValue] = .float(Float(v))
                }
            case .layer, .tensor:
                break
            }
        }
        return values
    }

    /// Everything but the items: model, data, settings, baseline, layers (without curves), groups.
    /// `itemsTotal` is the run's item count over all shards, so that `merge` can tell a missing shard.
    public static func header(graph: Graph, discovery: ItemDiscovery, model: JSONValue, data: JSONValue,
                              request: ProfileRequest, baseline: Baseline, itemsTotal: Int? = nil) throws -> [String: JSONValue] {
        let cost = try graph.cost(batch: 1)
        var layers: [JSONValue] = []
        for t in discovery.tails {
            let node = graph.nodes[t.producer]
            let c = cost.layers.first { $0.name == node.name }
            layers.append(.object(["name": .string(node.name), "op": .string(node.op.onnxName), "params": .int(c?.params ?? 0),
                                   "macs": .int(c?.macs ?? 0), "channels": .int(t.channels),
                                   "output": .string(graph.values[t.output].name), "tailEnd": .string(graph.values[t.end].name)]))
        }
        // Only coupled groups that touch a profiled layer are listed: a group of one channel is that
        // channel's own item, and the rest of the model is not the report's business.
        let patterns = request.measure.layerPattern.map { $0.split(separator: ",").map(String.init) }
        func profiled(_ producer: Int) -> Bool { patterns?.contains { globMatches($0, graph.nodes[producer].name) } ?? true }
        let listed = discovery.dependencies.groups.enumerated().filter { _, group in
            group.members.count > 1 && group.members.contains { profiled($0.producer) }
        }
        let groups: [JSONValue] = listed.map { g, group in
            .object(["id": .int(g), "prunable": .bool(group.prunable),
                     "members": .array(group.members.map { .object(["layer": .string(graph.nodes[$0.producer].name), "channel": .int($0.channel)]) }),
                     "channels": .int(group.members.count)])
        }
        var base: [String: JSONValue] = ["count": .int(baseline.count)]
        if let a = baseline.accuracy { base["accuracy"] = .double(a) }
        if let l = baseline.meanLoss { base["loss"] = .double(l) }
        var header: [String: JSONValue] = [
            "schema": .string(schema), "model": model, "data": data, "settings": settings(request), "baseline": .object(base),
            "layers": .array(layers), "groups": .array(groups), "groupCount": .int(discovery.dependencies.groups.count),
            "agreement": .object([:])]
        if let itemsTotal { header["itemsTotal"] = .int(itemsTotal) }
        return header
    }

    /// The report's `settings`: every result-changing option of the request, as its declaration
    /// records it (ProfileRequest.declarations), so a new option cannot be left out.
    public static func settings(_ request: ProfileRequest) -> JSONValue {
        .object(Dictionary(request.settings.map { ($0.key, JSONValue($0.value)) }, uniquingKeysWith: { a, _ in a }))
    }

    /// The full report: items sorted by index and ranked within their kind (rank 1 = least
    /// influential; ties by layer name, then channel, then id), each layer given its sweep curve.
    public static func assemble(header: [String: JSONValue], items: [JSONValue], timing: JSONValue?) -> JSONValue {
        var items = items.sorted { ($0["index"]?.intValue ?? 0) < ($1["index"]?.intValue ?? 0) }
        guard isMeasured(.object(header)) else { return assembleEstimatesOnly(header: header, items: items, timing: timing) }
        // Ranks run within each kind: a layer and one of its channels are not rivals.
        let order = items.indices.sorted { a, b in
            let (ka, kb) = (ItemKind(rawValue: items[a]["kind"]?.stringValue ?? "") ?? .tensor, ItemKind(rawValue: items[b]["kind"]?.stringValue ?? "") ?? .tensor)
            if ka != kb { return ka < kb }
            let (x, y) = (items[a], items[b])
            let (mx, my) = (x["influence"]?["mean"]?.doubleValue ?? 0, y["influence"]?["mean"]?.doubleValue ?? 0)
            if mx != my { return mx < my }
            let (lx, ly) = (x["layer"]?.stringValue ?? "", y["layer"]?.stringValue ?? "")
            if lx != ly { return lx < ly }
            let (cx, cy) = (x["channel"]?.intValue ?? -1, y["channel"]?.intValue ?? -1)
            if cx != cy { return cx < cy }
            return (x["id"]?.stringValue ?? "") < (y["id"]?.stringValue ?? "")
        }
        var nextRank: [String: Int] = [:]
        for i in order {
            let kind = items[i]["kind"]?.stringValue ?? ""
            nextRank[kind, default: 0] += 1
            if case .object(var o) = items[i] { o["rank"] = .int(nextRank[kind]!); items[i] = .object(o) }
        }
        var curves: [String: JSONValue] = [:]
        for item in items where item["kind"]?.stringValue == "layer" {
            if let sweep = item["sweep"], let layer = item["layer"]?.stringValue { curves[layer] = sweep }
        }
        var report = header
        if case .array(let layers)? = header["layers"] {
            report["layers"] = .array(layers.map { layer in
                guard case .object(var o) = layer else { return layer }
                o["sensitivity"] = curves[o["name"]?.stringValue ?? ""] ?? .array([])
                return .object(o)
            })
        }
        if let rule = header["settings"]?["weakRule"]?.stringValue, rule.hasPrefix("q:"), let q = Double(rule.dropFirst(2)) {
            let threshold = quantileThreshold(items: items, fraction: q)
            if case .object(var settings)? = report["settings"] { settings["weakThreshold"] = .float(Float(threshold)); report["settings"] = .object(settings) }
            for i in items.indices {
                if case .object(var o) = items[i] {
                    o["weak"] = .bool(ReportWarnings.isWeak(ciHigh: o["influence"]?["ciHigh"]?.doubleValue ?? .infinity, n: o["influence"]?["n"]?.intValue ?? 0, threshold: threshold))
                    items[i] = .object(o)
                }
            }
        }
        let q = header["settings"]?["latentFraction"]?.doubleValue ?? 0.2
        report["agreement"] = agreement(items: &items, latentFraction: q)
        let finest = finestKind(items)
        report["stability"] = RankStability.section(items: items.filter { $0["kind"]?.stringValue == finest })
        report["items"] = .array(items)
        report["summary"] = .object([
            "items": .int(items.count),
            "weak": .int(items.filter { $0["weak"]?.boolValue == true }.count),
            "classDamaging": .int(items.filter(ClassDamage.isDamaging).count),
            "hiddenCritical": .int(items.filter { $0["latent"]?.stringValue == "hiddenCritical" }.count),
            "hiddenWeak": .int(items.filter { $0["latent"]?.stringValue == "hiddenWeak" }.count),
        ])
        report["warnings"] = .array(ReportWarnings.list(inputs: header["data"]?["count"]?.intValue, items: items).map { .string($0) })
        if let timing { report["timing"] = timing }
        return .object(report)
    }

    /// A `--measure none` report: the items in index order with their estimator scores; no ranks,
    /// no agreement (nothing measured to agree with), no stability; the summary's counts of weak
    /// and latent items are null, and a warning says that nothing was measured.
    static func assembleEstimatesOnly(header: [String: JSONValue], items: [JSONValue], timing: JSONValue?) -> JSONValue {
        var report = header
        if case .array(let layers)? = header["layers"] {
            report["layers"] = .array(layers.map { layer in
                guard case .object(var o) = layer else { return layer }
                o["sensitivity"] = .array([])
                return .object(o)
            })
        }
        report["agreement"] = .object([:])
        report["items"] = .array(items)
        report["summary"] = .object(["items": .int(items.count), "weak": .null, "classDamaging": .null, "hiddenCritical": .null, "hiddenWeak": .null])
        report["warnings"] = .array([.string(ReportWarnings.estimatesOnly)])
        if let timing { report["timing"] = timing }
        return .object(report)
    }

    /// `--weak-threshold q:F`: the influence mean below which the fraction F of the items of the
    /// finest kind lie (the F-quantile, lower interpolation). An item is then weak when its whole
    /// interval lies below that value.
    public static func quantileThreshold(items: [JSONValue], fraction: Double) -> Double {
        let finest = finestKind(items)
        let means = items.filter { $0["kind"]?.stringValue == finest }.compactMap { $0["influence"]?["mean"]?.doubleValue }.sorted()
        guard !means.isEmpty else { return 0 }
        return means[min(means.count - 1, Int((Double(means.count) * fraction).rounded(.down)))]
    }

    /// `layers` without each layer's sensitivity curve (other keys unchanged): a shard holds the
    /// curves of its own layer items only, and `assemble` rebuilds them from the merged items, so
    /// shards of a layer sweep differ there by construction.
    static func withoutCurves(_ value: JSONValue?, key: String) -> JSONValue? {
        guard key == "layers", case .array(let layers)? = value else { return value }
        return .array(layers.map { layer in
            guard case .object(var o) = layer else { return layer }
            o["sensitivity"] = nil
            return .object(o)
        })
    }

    /// Joins shard reports into the report one run would give. Refuses reports of different
    /// models, data or settings (apart from the shard), shards of different N, a shard given
    /// twice, and missing items — counted against `itemsTotal`, the run's item count every
    /// shard records (reports older than that key fall back to the largest index seen).
    /// The caller validates each report against the schema first (`ReportSchema`).
    public static func merge(_ reports: [(path: String, report: JSONValue)]) throws -> JSONValue {
        guard let first = reports.first else { throw InfluenceError("merge: no reports given") }
        if let unmeasured = reports.first(where: { !isMeasured($0.report) }) {
            throw InfluenceError("\(unmeasured.path): \(ReportWarnings.estimatesOnlyRefusal(command: "merge"))")
        }
        func strip(_ settings: JSONValue?) -> JSONValue? {
            guard case .object(var o)? = settings else { return settings }
            o["shard"] = .null
            // A quantile threshold is resolved over each shard's own items; merging resolves it again.
            if o["weakRule"]?.stringValue?.hasPrefix("q:") == true { o["weakThreshold"] = .null }
            return .object(o)
        }
        var header: [String: JSONValue] = first.report.objectValue ?? [:]
        guard header["schema"]?.stringValue == schema else { throw InfluenceError("\(first.path): expected schema \(schema)") }
        let shards = try MergeShards(reports)
        var items: [Int: JSONValue] = [:]
        var totalSeconds = 0.0
        var floorSeconds: Double? = 0
        var peakMemory: [Int] = []
        for (path, report) in reports {
            guard report["schema"]?.stringValue == schema else { throw InfluenceError("\(path): expected schema \(schema)") }
            // Settings first: shards measured with different options are named as such, not as
            // different layers.
            guard strip(report["settings"]) == strip(first.report["settings"]) else {
                throw InfluenceError("\(path): 'settings' differ from \(first.path) beyond --shard")
            }
            for key in ["model", "data", "baseline", "layers", "groups", "itemsTotal"]
            where withoutCurves(report[key], key: key) != withoutCurves(first.report[key], key: key) {
                throw InfluenceError("\(path): '\(key)' differs from \(first.path): not shards of one run")
            }
            let typed: [ReportItem]
            do { typed = try ReportItem.all(of: report) } catch { throw InfluenceError("\(path): \(error.description)") }
            for item in typed {
                let index = item.index
                guard items[index] == nil else { throw InfluenceError("\(path): item \(index) is also in another shard") }
                guard case .object(var o) = item.json else { continue }
                o["rank"] = nil
                o["latent"] = .string("none")
                items[index] = .object(o)
            }
            totalSeconds += report["timing"]?["seconds"]?.doubleValue ?? 0
            floorSeconds = floorSeconds.flatMap { total in report["timing"]?["floorSeconds"]?.doubleValue.map { total + $0 } }
            if let peak = report["timing"]?["peakMemoryBytes"]?.intValue { peakMemory.append(peak) }
        }
        let expected = first.report["itemsTotal"]?.intValue ?? (items.keys.max().map { $0 + 1 } ?? 0)
        if items.count != expected {
            throw InfluenceError("merge: items are missing: got \(items.count) of \(expected)\(shards.missingDescription.map { " (\($0))" } ?? " (a shard was not given?)")")
        }
        header["settings"] = strip(header["settings"])
        for key in ["items", "summary", "timing", "warnings"] { header[key] = nil }
        // The shards' floors add up to the whole run's (each measured its own items); a shard
        // written before floors were recorded leaves the merged floor unknown.
        var timing: [String: JSONValue] = ["seconds": .double(totalSeconds)]
        if let floorSeconds {
            timing["floorSeconds"] = .double(floorSeconds)
            timing["floorRatio"] = floorSeconds > 0 ? .double((totalSeconds / floorSeconds * 1000).rounded() / 1000) : .null
        }
        // Shards run as separate processes: the merged run needed as much as the largest of them.
        if peakMemory.count == reports.count, let peak = peakMemory.max() { timing["peakMemoryBytes"] = .int(peak) }
        return assemble(header: header, items: Array(items.values), timing: .object(timing))
    }
}

/// The `settings.shard` of each report given to `merge`: all from one `--shard I/N` split (the
/// same N), each I once. Names the shard that disagrees, and the shards not given.
struct MergeShards {
    /// N of the split; nil when no report is a shard (merging whole runs of disjoint items).
    var count: Int?
    var given: Set<Int> = []

    init(_ reports: [(path: String, report: JSONValue)]) throws(InfluenceError) {
        var firstPath = ""
        var seen: [Int: String] = [:]
        var wholeRun: String? = nil
        for (path, report) in reports {
            var shard: Shard? = nil
            if let text = report["settings"]?["shard"]?.stringValue {
                do { shard = try Shard.parse(text) } catch { throw InfluenceError("\(path): settings.shard: \(error.description)") }
            }
            if let shard {
                if let count, shard.count != count {
                    throw InfluenceError("\(path): settings.shard is \(shard) but \(firstPath) is a shard of \(count): shards of different --shard I/N splits (N = \(count) and \(shard.count)) cannot be merged")
                }
                if count == nil {
                    if let wholeRun { throw InfluenceError("\(path): settings.shard is \(shard) but \(wholeRun) is not a shard") }
                    count = shard.count
                    firstPath = path
                }
                if let other = seen[shard.index] { throw InfluenceError("\(path): shard \(shard) is also given as \(other)") }
                seen[shard.index] = path
            } else if count != nil {
                throw InfluenceError("\(path): settings.shard is null but \(firstPath) is a shard of \(count!): expected shards of one --shard I/N split")
            } else {
                wholeRun = path
            }
        }
        given = Set(seen.keys)
    }

    /// "shards 2/4, 4/4 not given", or nil when every shard is here.
    var missingDescription: String? {
        guard let count else { return nil }
        let missing = (1...count).filter { !given.contains($0) }
        guard !missing.isEmpty else { return nil }
        return "shard\(missing.count > 1 ? "s" : "") \(missing.map { "\($0)/\(count)" }.joined(separator: ", ")) not given"
    }
}
