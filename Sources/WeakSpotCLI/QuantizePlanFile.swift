import NetworkIR
import Quantization
import Support

/// The part of a quantization plan (`plan --quantize`, schema `weakspot.quantize-plan/1`) that
/// `quantize` reads: `layers` [{`name`, `bits`}] (32: a float layer), `granularity` (`channel`|`tensor`) and
/// `activations` ({`bits`, `calibration`} or null). Other keys are ignored. Every malformed entry
/// is refused naming the file and the JSON path (`plan.json: layers[2].bits: ...`).
///
/// One function, `assignment(of:)`, maps the document to a `QuantizationAssignment`. It reads only
/// these keys (Planning's `QuantizationPlan(json:)` needs every key the planner writes), so a
/// hand-written plan works; `QuantizationPlan.assignment` gives the same assignment from a full one.
enum QuantizePlanFile {
    static let schema = "weakspot.quantize-plan/1"

    static func read(path: String, limits: JSONLimits) throws(CLIError) -> QuantizationAssignment {
        let json = try JSONFileOptions.read(path, limits: limits, expected: "a quantization plan (JSON, schema \(schema))")
        do { return try assignment(of: json) } catch { throw CLIError.input("\(path): \(error.message)") }
    }

    static func assignment(of json: JSONValue) throws(OptionError) -> QuantizationAssignment {
        guard json.objectValue != nil else { throw OptionError("expected a JSON object") }
        guard let schema = json["schema"]?.stringValue else { throw OptionError("schema: expected \"\(Self.schema)\"") }
        guard schema == Self.schema else {
            throw OptionError("schema: expected \"\(Self.schema)\", got \"\(schema)\"\(schema == "weakspot.plan/1" ? " (a pruning plan: apply it with weakspot prune)" : "")")
        }
        guard let layers = json["layers"]?.arrayValue else { throw OptionError("layers: expected an array of {\"name\", \"bits\"}") }
        var bits: [String: Int] = [:]
        for (i, layer) in layers.enumerated() {
            guard let name = layer["name"]?.stringValue, !name.isEmpty else { throw OptionError("layers[\(i)].name: expected a layer name") }
            guard let b = layer["bits"]?.intValue, (2...16).contains(b) || b == 32 else {
                throw OptionError("layers[\(i)].bits: expected an integer in 2...16, or 32 for a float layer, got \(shown(layer["bits"]))")
            }
            guard bits[name] == nil else { throw OptionError("layers[\(i)].name: '\(name)' is listed twice") }
            // 32 bits: the planner lists float layers too; they stay as they are.
            if b < 32 { bits[name] = b }
        }
        var granularity = QuantizationGranularity.channel
        if let g = json["granularity"], g != .null {
            guard let text = g.stringValue, let value = QuantizationGranularity(rawValue: text) else {
                throw OptionError("granularity: expected \"channel\" or \"tensor\", got \(shown(g))")
            }
            granularity = value
        }
        var activationBits: Int? = nil
        var calibration = CalibrationMethod.minmax
        if let a = json["activations"], a != .null {
            guard a.objectValue != nil else { throw OptionError("activations: expected {\"bits\", \"calibration\"} or null") }
            guard let b = a["bits"]?.intValue, (2...16).contains(b) else {
                throw OptionError("activations.bits: expected an integer in 2...16, got \(shown(a["bits"]))")
            }
            activationBits = b
            if let c = a["calibration"], c != .null {
                guard let text = c.stringValue, let method = CalibrationMethod(rawValue: text) else {
                    throw OptionError("activations.calibration: expected one of \(CalibrationMethod.allCases.map(\.rawValue).joined(separator: ", ")), got \(shown(c))")
                }
                calibration = method
            }
        }
        return QuantizationAssignment(weightBits: bits, granularity: granularity, activationBits: activationBits, calibration: calibration)
    }

    /// A JSON value as an error message shows it.
    static func shown(_ value: JSONValue?) -> String {
        switch value {
        case nil: return "nothing"
        case .null?: return "null"
        case .bool(let b)?: return "\(b)"
        case .int(let i)?: return "\(i)"
        case .double(let d)?: return "\(d)"
        case .float(let f)?: return "\(f)"
        case .string(let s)?: return "\"\(s)\""
        case .array?: return "an array"
        case .object?: return "an object"
        }
    }
}
