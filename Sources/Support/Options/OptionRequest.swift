/// A command's typed request: every option a field with its default, declared once in
/// `declarations`. Parsing, validation, the fingerprint and the `settings` object come from the
/// declarations, so an option cannot be parsed but forgotten by the fingerprint or the report.
public protocol OptionRequest: Sendable {
    /// Every option at its default.
    init()
    static var declarations: [OptionDeclaration<Self>] { get }
    /// Checks what no single option can check alone (combinations); throws the exit-2 message.
    func validate() throws(OptionError)
}

extension OptionRequest {
    public func validate() throws(OptionError) {}

    public static func declaration(named name: String) -> OptionDeclaration<Self>? {
        declarations.first { $0.name == name }
    }

    /// The request from scanned arguments: `values` holds every value given per option name (the
    /// last one wins, or every one in order for a repeating option), `flags` the flags present. Names that are not declared are ignored (a
    /// command's shared options are read elsewhere). Validates before returning.
    public static func parse(values: [String: [String]], flags: Set<String>) throws(OptionError) -> Self {
        var request = Self()
        for declaration in declarations {
            if declaration.isFlag {
                if flags.contains(declaration.name) { try declaration.apply(&request, "") }
            } else if declaration.isRepeating {
                for text in values[declaration.name] ?? [] { try declaration.apply(&request, text) }
            } else if let text = values[declaration.name]?.last {
                try declaration.apply(&request, text)
            }
        }
        try request.validate()
        return request
    }

    /// Every result-changing option's recorded value, in declaration order.
    public var settings: [(key: String, value: SettingValue)] {
        Self.declarations.filter { $0.effect == .result }.flatMap { $0.record(self) }
    }

    /// One line naming every result-changing option and its value: two requests with the same
    /// fingerprint compute the same results from the same model and data.
    public var fingerprint: String {
        settings.map { "\($0.key)=\($0.value.canonicalText)" }.joined(separator: ";")
    }
}
