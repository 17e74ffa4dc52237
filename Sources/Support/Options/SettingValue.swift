/// An option's value as it is recorded: in a report's or plan's `settings` object and, as
/// `canonicalText`, in a checkpoint's fingerprint. Both come from this one value, so an option that
/// is recorded in one is recorded in the other.
public enum SettingValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case strings([String])

    /// One unambiguous line: lists keep their order, strings are quoted so `a,b` and `["a","b"]` differ.
    public var canonicalText: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return "\(d)"
        case .string(let s): return Self.quoted(s)
        case .strings(let list): return "[" + list.map(Self.quoted).joined(separator: ",") + "]"
        }
    }

    private static func quoted(_ s: String) -> String {
        var text = "\""
        for character in s {
            if character == "\\" || character == "\"" { text.append("\\") }
            text.append(character)
        }
        return text + "\""
    }
}
