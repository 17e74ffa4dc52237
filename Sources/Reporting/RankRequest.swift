import Support

/// Everything `weakspot rank` is asked to do, one field per option, declared once.
public struct RankRequest: OptionRequest {
    /// `--by`: one ranking over every item, or one per layer.
    public enum Scope: String, CaseIterable, Sendable { case global, layer }
    /// `--order`.
    public enum Order: String, CaseIterable, Sendable { case weakest, strongest }
    /// `--format`.
    public enum Format: String, CaseIterable, Sendable { case table, json, csv }

    public var top = 20
    public var by = Scope.global
    /// `--kind` as typed (`channel` or `channels`); checked against the report's kinds
    /// (`Report.kind(named:)`), so the error can list what the report holds. nil: the finest.
    public var kind: String? = nil
    public var order = Order.weakest
    public var format = Format.table
    public var output: String? = nil
    public var summary = false

    public init() {}

    public static let declarations: [OptionDeclaration<RankRequest>] = [
        .value("top", "k", \.top, .integer(in: 1...10_000_000), help: "Items to list (per layer with --by layer).", effect: .result, sample: "3"),
        .value("by", "scope", \.by, .choice, help: "global or layer.", effect: .result, sample: "layer"),
        .value("kind", "kind", \.kind, ValueParser<String>.text.optional, help: "channel, group, layer or tensor.", effect: .result,
               default: "the finest kind in the report", sample: "group"),
        .value("order", "order", \.order, .choice, help: "weakest or strongest first.", effect: .result, sample: "strongest"),
        .value("format", "format", \.format, .choice, help: "table, json or csv.", effect: .presentation, sample: "csv"),
        .value("output", short: "o", "file", \.output, ValueParser<String>.text.optional,
               help: "Write to this file (atomically) instead of standard output.", effect: .presentation, sample: "rank.txt"),
        .flag("summary", \.summary, help: "With the table format: also the per-layer table, latent items, agreement and stability.",
              effect: .presentation),
    ]
}
