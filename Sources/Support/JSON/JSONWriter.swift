/// A JSON document built in code and rendered deterministically: the same value gives the same
/// bytes on every run and machine, which reports and their tests rely on.
///
/// Rendering rules: object keys sorted by their UTF-8 bytes; integers as integers; `double` and
/// `float` in the shortest form that reads back to the same value in that type (Swift's
/// `description`, e.g. `0.1`, `1e-05`, `1.0`), with `-0.0` written `0.0`, and non-finite numbers
/// (which JSON cannot hold) written `null`; strings escaped as RFC 8259 requires (`"`, `\`, and
/// control characters; `\n`, `\t` and friends in their short forms, the rest as `\u00XX`), other
/// characters as UTF-8. `pretty` indents by two spaces with `": "` between key and value, writes
/// arrays of scalars on one line (`[1, 3, 224, 224]`) and empty arrays and objects as `[]` and
/// `{}`; compact form has no whitespace.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    /// A single-precision number, printed with the shortest digits that round-trip as `Float`.
    case float(Float)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The document as text, with a final newline when `pretty`. `oneLineFrom`: values nested at
    /// least this deep are written on one line (`{"a": 1, "b": [2]}`) — a report's items then take
    /// one line each, half the bytes of full indentation and easy to grep.
    public func rendered(pretty: Bool = true, oneLineFrom: Int? = nil) -> String {
        var text = ""
        JSONWriter(pretty: pretty, oneLineFrom: oneLineFrom).write(self, into: &text, depth: 0)
        if pretty { text += "\n" }
        return text
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(nilLiteral: ()) { self = .null }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        var object: [String: JSONValue] = [:]
        for (key, value) in elements { object[key] = value }
        self = .object(object)
    }
}

extension JSONValue {
    /// Not an array or object.
    public var isScalar: Bool {
        switch self {
        case .array, .object: false
        default: true
        }
    }
}

/// Renders `JSONValue`s; see `JSONValue` for the format.
struct JSONWriter {
    var pretty: Bool
    var oneLineFrom: Int? = nil

    /// Separators inside a value written on one line.
    private func inline(_ depth: Int) -> Bool { pretty && oneLineFrom.map { depth >= $0 } == true }

    func write(_ value: JSONValue, into text: inout String, depth: Int) {
        switch value {
        case .null: text += "null"
        case .bool(let flag): text += flag ? "true" : "false"
        case .int(let number): text += String(number)
        case .double(let number): text += Self.number(number)
        case .float(let number): text += Self.number(number)
        case .string(let string): Self.writeString(string, into: &text)
        case .array(let elements):
            guard !elements.isEmpty else { text += "[]"; return }
            if pretty && (elements.allSatisfy(\.isScalar) || inline(depth)) {
                text += "["
                for (i, element) in elements.enumerated() {
                    if i > 0 { text += ", " }
                    write(element, into: &text, depth: depth)
                }
                text += "]"
                return
            }
            text += "["
            for (i, element) in elements.enumerated() {
                if i > 0 { text += "," }
                newline(&text, depth: depth + 1)
                write(element, into: &text, depth: depth + 1)
            }
            newline(&text, depth: depth)
            text += "]"
        case .object(let members):
            guard !members.isEmpty else { text += "{}"; return }
            text += "{"
            let keys = members.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            let oneLine = inline(depth)
            for (i, key) in keys.enumerated() {
                if i > 0 { text += oneLine ? ", " : "," }
                if !oneLine { newline(&text, depth: depth + 1) }
                Self.writeString(key, into: &text)
                text += pretty ? ": " : ":"
                if let member = members[key] { write(member, into: &text, depth: depth + 1) }
            }
            if !oneLine { newline(&text, depth: depth) }
            text += "}"
        }
    }

    private func newline(_ text: inout String, depth: Int) {
        guard pretty else { return }
        text += "\n"
        text += String(repeating: "  ", count: depth)
    }

    static func number<F: BinaryFloatingPoint & LosslessStringConvertible>(_ value: F) -> String {
        guard value.isFinite else { return "null" }
        if value == 0 { return "0.0" }
        return value.description
    }

    static func writeString(_ string: String, into text: inout String) {
        text += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case "\u{08}": text += "\\b"
            case "\u{0C}": text += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    text.unicodeScalars.append(scalar)
                }
            }
        }
        text += "\""
    }
}
