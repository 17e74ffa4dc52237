/// Checks a JSON document against a JSON Schema (draft 2020-12), for the subset WeakSpot's own
/// schemas use: `type` (one or a list), `enum`, `const`, `properties`, `required`,
/// `additionalProperties` (false or a schema), `items`, `minItems`, `minimum`, `maximum`,
/// `anyOf`, `$ref` to `#/$defs/NAME`, and `minLength`. Any other keyword in a schema is an error,
/// so a schema cannot silently ask for more than is checked.
///
/// Written here because the package has no dependencies; the tests also check the schema with
/// Python's `jsonschema` once (Tests/Benchmarks/README.md) so this validator is not the only judge.
public struct JSONSchemaValidator: Sendable {
    let root: JSONValue
    static let known: Set<String> = ["$schema", "$id", "$defs", "$comment", "title", "description", "type", "enum", "const",
                                     "properties", "required", "additionalProperties", "items", "minItems", "minimum",
                                     "maximum", "anyOf", "$ref", "minLength"]

    public init(schema: JSONValue) { root = schema }

    /// Every violation as `path: message` (empty when the document is valid), at most `limit`.
    public func violations(of document: JSONValue, limit: Int = 20) -> [String] {
        var found: [String] = []
        check(document, against: root, path: "$", found: &found, limit: limit)
        return found
    }

    private func resolve(_ reference: String) -> JSONValue? {
        guard reference.hasPrefix("#/$defs/") else { return nil }
        return root["$defs"]?[String(reference.dropFirst("#/$defs/".count))]
    }

    private func check(_ value: JSONValue, against schema: JSONValue, path: String, found: inout [String], limit: Int) {
        guard found.count < limit else { return }
        if case .bool(let allowed) = schema {
            if !allowed { found.append("\(path): no value is allowed here") }
            return
        }
        guard let rules = schema.objectValue else { found.append("\(path): the schema is not an object"); return }
        for key in rules.keys where !Self.known.contains(key) { found.append("\(path): schema keyword '\(key)' is not supported by this validator") }
        if let reference = rules["$ref"]?.stringValue {
            guard let target = resolve(reference) else { found.append("\(path): unresolvable $ref \(reference)"); return }
            check(value, against: target, path: path, found: &found, limit: limit)
        }
        if let type = rules["type"] {
            let allowed = type.arrayValue?.compactMap(\.stringValue) ?? [type.stringValue ?? ""]
            guard allowed.contains(where: { Self.matches(value, type: $0) }) else {
                found.append("\(path): expected \(allowed.joined(separator: " or ")), got \(Self.typeName(value))")
                return
            }
        }
        if let options = rules["enum"]?.arrayValue, !options.contains(where: { Self.equal($0, value) }) {
            found.append("\(path): expected one of \(options.map { $0.rendered(pretty: false) }.joined(separator: ", ")), got \(value.rendered(pretty: false))")
        }
        if let constant = rules["const"], !Self.equal(constant, value) {
            found.append("\(path): expected \(constant.rendered(pretty: false)), got \(value.rendered(pretty: false))")
        }
        if let number = value.doubleValue {
            if let low = rules["minimum"]?.doubleValue, number < low { found.append("\(path): \(number) is below the minimum \(low)") }
            if let high = rules["maximum"]?.doubleValue, number > high { found.append("\(path): \(number) is above the maximum \(high)") }
        }
        if let minimum = rules["minLength"]?.intValue, let s = value.stringValue, s.count < minimum {
            found.append("\(path): expected at least \(minimum) characters")
        }
        if let alternatives = rules["anyOf"]?.arrayValue {
            let passes = alternatives.contains { alternative in
                var scratch: [String] = []
                check(value, against: alternative, path: path, found: &scratch, limit: 1)
                return scratch.isEmpty
            }
            if !passes { found.append("\(path): matches none of the anyOf alternatives") }
        }
        if let members = value.objectValue {
            for name in rules["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where members[name] == nil {
                found.append("\(path): missing required key '\(name)'")
            }
            let properties = rules["properties"]?.objectValue ?? [:]
            for key in members.keys.sorted() {
                if let property = properties[key] {
                    check(members[key]!, against: property, path: path + "." + key, found: &found, limit: limit)
                } else if let extra = rules["additionalProperties"] {
                    check(members[key]!, against: extra, path: path + "." + key, found: &found, limit: limit)
                }
            }
        }
        if let elements = value.arrayValue {
            if let minimum = rules["minItems"]?.intValue, elements.count < minimum {
                found.append("\(path): expected at least \(minimum) elements, got \(elements.count)")
            }
            if let each = rules["items"] {
                for (i, element) in elements.enumerated() where found.count < limit {
                    check(element, against: each, path: "\(path)[\(i)]", found: &found, limit: limit)
                }
            }
        }
    }

    static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object): return true
        case ("integer", .int): return true
        case ("integer", .double(let d)): return d.rounded() == d
        case ("number", .int), ("number", .double), ("number", .float): return true
        default: return false
        }
    }

    static func typeName(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double, .float: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = a.doubleValue, let y = b.doubleValue { return x == y }
        return a == b
    }
}
