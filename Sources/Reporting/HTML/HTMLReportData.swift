import Support

/// What the page draws, read defensively from a parsed report.json: any section may be missing
/// or hold keys added after this page was written, and none of that may stop the page.
struct HTMLReportData {
    let report: JSONValue
    let items: [JSONValue]
    /// Layer names in graph order (the report's `layers`), then any other layer an item names,
    /// in item order.
    let layerOrder: [String]
    /// The kind the distributions and scatter plots use: the most fine-grained one present
    /// (channel, then group, layer, tensor), as the agreement section compares.
    let comparedKind: String?
    /// Estimators the items carry or the agreement section compares: the known ones in their
    /// documented order, then any other in name order.
    let estimators: [String]
    let metric: String
    let weakThreshold: Double?

    static let knownEstimators = ["l1", "l2", "bn", "apoz", "meanact", "taylor", "random"]
    static let kindOrder = ["channel", "group", "layer", "tensor"]

    init(report: JSONValue) {
        self.report = report
        items = report["items"]?.arrayValue ?? []
        var order: [String] = []
        var seen = Set<String>()
        for layer in report["layers"]?.arrayValue ?? [] {
            if let name = layer["name"]?.stringValue, seen.insert(name).inserted { order.append(name) }
        }
        for item in items {
            if let name = item["layer"]?.stringValue, seen.insert(name).inserted { order.append(name) }
        }
        layerOrder = order
        let kinds = Set(items.compactMap { $0["kind"]?.stringValue })
        comparedKind = Self.kindOrder.first { kinds.contains($0) } ?? kinds.sorted().first
        var names = Set<String>()
        for item in items { names.formUnion((item["estimators"]?.objectValue ?? [:]).keys) }
        for (key, value) in report["agreement"]?.objectValue ?? [:] where value["spearman"] != nil { names.insert(key) }
        estimators = Self.knownEstimators.filter { names.contains($0) } + names.subtracting(Self.knownEstimators).sorted()
        metric = report["settings"]?["metric"]?.stringValue ?? "influence"
        weakThreshold = report["settings"]?["weakThreshold"]?.doubleValue
    }

    func items(ofKind kind: String?) -> [JSONValue] {
        guard let kind else { return [] }
        return items.filter { $0["kind"]?.stringValue == kind }
    }

    /// The items of `kind` of each layer, in `layerOrder`, leaving out layers without any.
    func itemsByLayer(kind: String?) -> [(layer: String, items: [JSONValue])] {
        let grouped = Dictionary(grouping: items(ofKind: kind)) { $0["layer"]?.stringValue ?? "" }
        return layerOrder.compactMap { name in grouped[name].map { (name, $0) } }
    }

    /// Plural of an item kind for prose ("channels").
    static func plural(_ kind: String?) -> String {
        guard let kind else { return "items" }
        return kind + "s"
    }
}

extension JSONValue {
    /// The value as short text for a table cell: numbers via `HTMLNumber`, arrays and objects as
    /// compact JSON.
    var cellText: String {
        switch self {
        case .null: HTMLNumber.missing
        case .bool(let b): b ? "yes" : "no"
        case .int(let i): HTMLNumber.grouped(i)
        case .double, .float: HTMLNumber.short(doubleValue)
        case .string(let s): s
        case .array, .object: rendered(pretty: false)
        }
    }
}
