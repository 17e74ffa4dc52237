/// Whether an option changes what a command computes.
///
/// `result` options are recorded: in the checkpoint fingerprint (a resumed run with a different
/// value is refused) and in the report's or plan's `settings` (merge compares them). Options that
/// only change where or how results are shown (`--quiet`, `--threads`, output paths) are
/// `presentation` and recorded nowhere, so changing them never invalidates a checkpoint.
public enum OptionEffect: Sendable, Equatable {
    case result
    case presentation
}

/// One option of one command, declared once: its name, help line, default, valid values (its
/// parser), the request field it sets and whether it changes results. `--help`, argument parsing,
/// the fingerprint, the `settings` object and docs/cli.md's tables are all generated from it.
public struct OptionDeclaration<Request: Sendable>: Sendable {
    /// The long name without dashes (`adaptive-slice`).
    public var name: String
    public var short: Character?
    /// Shown in help as `--name <placeholder>`; nil for a flag.
    public var placeholder: String?
    public var help: String
    /// `(default: ...)` in help; nil when the option has no default (absent means off or derived).
    public var defaultText: String?
    public var effect: OptionEffect
    /// The key of this option in `settings` (camelCase, `adaptiveSlice`).
    public var settingsKey: String
    /// A valid value different from the default, used by the tests that check every option is
    /// recorded (an empty string for a flag, which is set by being present).
    public var sample: String
    /// Sets the request's field from the option's text (a flag gets "").
    public var apply: @Sendable (inout Request, String) throws(OptionError) -> Void
    /// What is recorded for this option: usually one key, a few options record two (the weak
    /// threshold and its rule).
    public var record: @Sendable (Request) -> [(key: String, value: SettingValue)]
    /// Every occurrence is applied in order (`--input a=x.npy --input b=y.npy`); otherwise only
    /// the last one is.
    public var isRepeating = false

    public var isFlag: Bool { placeholder == nil }

    /// An option taking one value (the last one given wins).
    public static func value<Value>(
        _ name: String, short: Character? = nil, _ placeholder: String,
        _ field: WritableKeyPath<Request, Value> & Sendable, _ parser: ValueParser<Value>,
        help: String, effect: OptionEffect, settingsKey: String? = nil,
        default defaultText: String? = nil, sample: String,
        record: (@Sendable (Request) -> [(key: String, value: SettingValue)])? = nil
    ) -> OptionDeclaration where Request: OptionRequest {
        let key = settingsKey ?? camelCase(name)
        let shownDefault = defaultText ?? {
            let text = parser.text(Request()[keyPath: field])
            return text.isEmpty ? nil : text
        }()
        return OptionDeclaration(
            name: name, short: short, placeholder: placeholder, help: help, defaultText: shownDefault,
            effect: effect, settingsKey: key, sample: sample,
            apply: { (request: inout Request, text: String) throws(OptionError) in
                do throws(OptionError) { request[keyPath: field] = try parser.parse(text) } catch {
                    // Library parsers (`Perturbation.parse`) already name the option.
                    throw error.message.hasPrefix("--\(name)") ? error : OptionError("--\(name): \(error.message)")
                }
            },
            record: record ?? { request in [(key, parser.setting(request[keyPath: field]))] })
    }

    /// An option that may be given several times: every value is parsed and appended, in order.
    public static func repeated<Value>(
        _ name: String, _ placeholder: String, _ field: WritableKeyPath<Request, [Value]> & Sendable, _ parser: ValueParser<Value>,
        help: String, effect: OptionEffect, settingsKey: String? = nil, default defaultText: String? = nil, sample: String
    ) -> OptionDeclaration {
        let key = settingsKey ?? camelCase(name)
        var declaration = OptionDeclaration(
            name: name, short: nil, placeholder: placeholder, help: help, defaultText: defaultText,
            effect: effect, settingsKey: key, sample: sample,
            apply: { (request: inout Request, text: String) throws(OptionError) in
                do throws(OptionError) { request[keyPath: field].append(try parser.parse(text)) } catch {
                    throw error.message.hasPrefix("--\(name)") ? error : OptionError("--\(name): \(error.message)")
                }
            },
            record: { request in [(key, .strings(request[keyPath: field].map(parser.text)))] })
        declaration.isRepeating = true
        return declaration
    }

    /// A flag: present means true.
    public static func flag(
        _ name: String, short: Character? = nil, _ field: WritableKeyPath<Request, Bool> & Sendable,
        help: String, effect: OptionEffect, settingsKey: String? = nil
    ) -> OptionDeclaration {
        let key = settingsKey ?? camelCase(name)
        return OptionDeclaration(
            name: name, short: short, placeholder: nil, help: help, defaultText: nil,
            effect: effect, settingsKey: key, sample: "",
            apply: { (request: inout Request, _: String) throws(OptionError) in request[keyPath: field] = true },
            record: { request in [(key, .bool(request[keyPath: field]))] })
    }

    /// `adaptive-slice` → `adaptiveSlice`.
    public static func camelCase(_ name: String) -> String {
        let parts = name.split(separator: "-")
        return parts.enumerated().map { $0.offset == 0 ? String($0.element) : $0.element.prefix(1).uppercased() + $0.element.dropFirst() }.joined()
    }
}
