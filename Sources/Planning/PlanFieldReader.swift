import Support

/// Reads one typed field of a plan object, naming its place in the error (`layers[3].op:
/// expected a string, got 7`): the reading half of `Plan`'s mapping, kept apart so the mapping
/// itself reads as a list of keys.
struct PlanFieldReader {
    var object: JSONValue
    /// The object's place (`layers[3]`), empty for the document itself.
    var place: String

    init(_ object: JSONValue, place: String) {
        self.object = object
        self.place = place
    }

    func name(_ key: String) -> String { place.isEmpty ? key : "\(place).\(key)" }

    func fail(_ key: String, _ expected: String) -> PlanInputError {
        PlanInputError("\(name(key)): expected \(expected), got \(object[key]?.rendered(pretty: false) ?? "nothing")")
    }

    func value(_ key: String) throws(PlanInputError) -> JSONValue {
        guard let v = object[key] else { throw fail(key, "a value") }
        return v
    }

    func integer(_ key: String) throws(PlanInputError) -> Int {
        guard let v = object[key]?.intValue else { throw fail(key, "an integer") }
        return v
    }

    func bool(_ key: String) throws(PlanInputError) -> Bool {
        guard let v = object[key]?.boolValue else { throw fail(key, "true or false") }
        return v
    }

    func string(_ key: String) throws(PlanInputError) -> String {
        guard let v = object[key]?.stringValue else { throw fail(key, "a string") }
        return v
    }

    func array(_ key: String) throws(PlanInputError) -> [JSONValue] {
        guard let v = object[key]?.arrayValue else { throw fail(key, "an array") }
        return v
    }

    func objectField(_ key: String) throws(PlanInputError) -> JSONValue {
        guard let v = object[key], v.objectValue != nil else { throw fail(key, "an object") }
        return v
    }

    func number(_ key: String) throws(PlanInputError) -> Double {
        guard let v = object[key]?.doubleValue else { throw fail(key, "a number") }
        return v
    }

    /// A number, or null for nil; the key must be present.
    func optionalNumber(_ key: String) throws(PlanInputError) -> Double? {
        let v = try value(key)
        if v == .null { return nil }
        guard let d = v.doubleValue else { throw fail(key, "a number or null") }
        return d
    }

    /// `{metric: number}` or null.
    func metrics(_ key: String) throws(PlanInputError) -> [String: Double]? {
        let v = try value(key)
        if v == .null { return nil }
        guard let members = v.objectValue else { throw fail(key, "an object of numbers or null") }
        var result: [String: Double] = [:]
        for (metric, number) in members {
            guard let d = number.doubleValue else { throw PlanInputError("\(name(key)).\(metric): expected a number, got \(number.rendered(pretty: false))") }
            result[metric] = d
        }
        return result
    }

    /// `{"class index": number}` or null.
    func classes(_ key: String) throws(PlanInputError) -> [Int: Double]? {
        guard let named = try metrics(key) else { return nil }
        var result: [Int: Double] = [:]
        for (text, d) in named {
            guard let c = Int(text), c >= 0 else { throw PlanInputError("\(name(key)).\(text): expected a class index") }
            result[c] = d
        }
        return result
    }
}
