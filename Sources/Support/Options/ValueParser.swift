/// How one option's text becomes its typed value, how that value is recorded, and how it is shown
/// as a default in help. Ranges live here, so `--help`, parsing and the error agree.
public struct ValueParser<Value: Sendable>: Sendable {
    /// Text → value; throws the message after `--name: ` (`expected an integer in 1...4096, got '0'`).
    public var parse: @Sendable (String) throws(OptionError) -> Value
    /// The recorded form (settings, fingerprint).
    public var setting: @Sendable (Value) -> SettingValue
    /// The value as a user would type it, for `(default: ...)`.
    public var text: @Sendable (Value) -> String

    public init(parse: @escaping @Sendable (String) throws(OptionError) -> Value,
                setting: @escaping @Sendable (Value) -> SettingValue,
                text: @escaping @Sendable (Value) -> String) {
        self.parse = parse
        self.setting = setting
        self.text = text
    }

    /// The same parser for an optional value: absent is `nil`, recorded as `null`, shown as nothing.
    public var optional: ValueParser<Value?> {
        let (parse, setting, text) = (self.parse, self.setting, self.text)
        return ValueParser<Value?>(parse: { (t: String) throws(OptionError) -> Value? in try parse(t) },
                                   setting: { $0.map(setting) ?? .null },
                                   text: { $0.map(text) ?? "" })
    }
}

extension ValueParser where Value == Int {
    /// A whole number in `range`; `_` separators are allowed (`1_000`).
    public static func integer(in range: ClosedRange<Int>) -> ValueParser<Int> {
        ValueParser(parse: { (text: String) throws(OptionError) -> Int in
            guard let n = Int(String(text.filter { $0 != "_" })), range.contains(n) else {
                let bound = range.upperBound == Int.max ? "at least \(range.lowerBound)" : "in \(range.lowerBound)...\(range.upperBound)"
                throw OptionError("expected an integer \(bound), got '\(text)'")
            }
            return n
        }, setting: { .int($0) }, text: { String($0) })
    }
}

extension ValueParser where Value == UInt64 {
    /// A seed: any non-negative integer up to `Int.max` (recorded as a JSON integer).
    public static var seed: ValueParser<UInt64> {
        let int = ValueParser<Int>.integer(in: 0...Int.max)
        return ValueParser(parse: { (text: String) throws(OptionError) -> UInt64 in UInt64(try int.parse(text)) },
                           setting: { .int(Int(truncatingIfNeeded: $0)) }, text: { String($0) })
    }
}

extension ValueParser where Value: BinaryFloatingPoint & LosslessStringConvertible {
    /// A finite number (`Double` or `Float`, parsed directly in that type) with `lower` and
    /// `upper` bounds, each inclusive or not; `expected` names the range in the error (`a number
    /// in (0, 0.5]`).
    public static func number(above lower: Value, inclusive lowerInclusive: Bool = true,
                              upTo upper: Value = .infinity, inclusive upperInclusive: Bool = true,
                              expected: String) -> ValueParser<Value> {
        ValueParser(parse: { (text: String) throws(OptionError) -> Value in
            guard let v = Value(text), v.isFinite,
                  lowerInclusive ? v >= lower : v > lower,
                  upperInclusive ? v <= upper : v < upper else {
                throw OptionError("expected \(expected), got '\(text)'")
            }
            return v
        }, setting: { .double(Double($0)) }, text: { "\($0)" })
    }
}

extension ValueParser where Value == String {
    /// Any non-empty text, recorded as is.
    public static var text: ValueParser<String> {
        ValueParser(parse: { (text: String) throws(OptionError) -> String in
            guard !text.isEmpty else { throw OptionError("expected a value, got an empty string") }
            return text
        }, setting: { .string($0) }, text: { $0 })
    }
}

extension ValueParser where Value: RawRepresentable & CaseIterable, Value.RawValue == String {
    /// One of an enumeration's raw values.
    public static var choice: ValueParser<Value> {
        ValueParser(parse: { (text: String) throws(OptionError) -> Value in
            guard let v = Value(rawValue: text) else {
                throw OptionError("expected one of \(Value.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
            }
            return v
        }, setting: { .string($0.rawValue) }, text: { $0.rawValue })
    }
}

extension ValueParser {
    /// A comma-separated list of `element`s (`l1,apoz`), recorded as a list of their texts.
    public static func list<Element>(of element: ValueParser<Element>) -> ValueParser<[Element]> where Value == [Element] {
        ValueParser<[Element]>(parse: { (text: String) throws(OptionError) -> [Element] in
            var result: [Element] = []
            for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                result.append(try element.parse(String(part)))
            }
            return result
        }, setting: { list in .strings(list.map { element.text($0) }) },
        text: { $0.map(element.text).joined(separator: ",") })
    }
}

