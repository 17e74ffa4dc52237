import Quantization
import NetworkIR
import Support

/// A quantization plan (`weakspot.quantize-plan/1`, docs/quantization.md) as a value: `json`
/// writes it and `init(json:)` reads it, so what `plan --quantize` writes is what `quantize`
/// and `gate` read. Reading refuses a missing or mistyped field by naming its place.
@dynamicMemberLookup
public struct QuantizationPlan: Sendable, Equatable {
    public struct Layer: Sendable, Equatable {
        public var name: String
        public var op: String
        public var params: Int
        /// Bits per weight; 32 keeps the layer's weights in float.
        public var bits: Int
        /// The report's mean metrics for this layer alone at these bits (nil when not measured).
        public var predicted: [String: Double]?
        /// How the layer's output activation is calibrated when the plan quantizes it (nil: not
        /// quantized). A layer at 32 bits with a method is on the float rung: float weights,
        /// quantized output.
        public var activation: CalibrationMethod? = nil
    }

    public var model: JSONValue
    public var data: JSONValue
    public var settings: JSONValue
    public var granularity: QuantizationGranularity
    /// Activation bits and calibration, nil when activations stay float.
    public var activationBits: Int?
    /// One method for every activation, or `measured`: each layer's `activation` names its own.
    public var calibration: PlanCalibration
    public var bitsBefore: Double
    public var bitsAfter: Double
    public var bytesBefore: Int
    public var bytesAfter: Int
    /// The bytes of the QDQ file `weakspot quantize` writes (widths up to 8 bits take a byte).
    public var storedBytesAfter: Int
    public var figures: PlanFigures
    public var layers: [Layer]
    public var note: String

    public subscript<T>(dynamicMember path: KeyPath<PlanFigures, T>) -> T { figures[keyPath: path] }

    public static let schema = "weakspot.quantize-plan/1"

    /// What the plan asks of the model: the layers below 32 bits, the float-rung layers whose
    /// output is quantized, the granularity and activations with each layer's calibration.
    public var assignment: QuantizationAssignment {
        Self.assignment(layers: layers.map { ($0.name, $0.bits, $0.activation) }, granularity: granularity, activationBits: activationBits,
                        calibration: calibration)
    }

    static func assignment(layers: [(name: String, bits: Int, activation: CalibrationMethod?)], granularity: QuantizationGranularity,
                           activationBits: Int?, calibration: PlanCalibration) -> QuantizationAssignment {
        var weightBits: [String: Int] = [:], floatLayers: Set<String> = [], methods: [String: CalibrationMethod] = [:]
        for l in layers {
            if l.bits < 32 { weightBits[l.name] = l.bits } else if activationBits != nil && l.activation != nil { floatLayers.insert(l.name) }
            if activationBits != nil, let m = l.activation, m != calibration.method { methods[l.name] = m }
        }
        return QuantizationAssignment(weightBits: weightBits, granularity: granularity, activationBits: activationBits,
                                      calibration: calibration.method ?? .minmax, floatLayers: floatLayers, layerCalibration: methods)
    }
}

extension QuantizationPlan {
    /// What `weakspot quantize` needs of a plan — `schema`, `layers` [{`name`, `bits`,
    /// `activation`}] (bits 32: float weights; `activation`: the calibration of the layer's output
    /// when the plan quantizes it, optional unless the plan's calibration is `measured`),
    /// `granularity` (default channel) and `activations` ({`bits`, `calibration`} or null) — read
    /// alone, so a hand-written plan works (as `Plan.groups(of:)` is for pruning). `init(json:)`
    /// reads these keys through it. Errors name the JSON path.
    public static func assignment(of json: JSONValue) throws(PlanInputError) -> QuantizationAssignment {
        let (assignment, _, _) = try fields(of: json)
        return assignment
    }

    /// The assignment, the plan's calibration and each layer's `activation` as written.
    static func fields(of json: JSONValue) throws(PlanInputError) -> (QuantizationAssignment, PlanCalibration, [CalibrationMethod?]) {
        let reader = PlanFieldReader(json, place: "")
        guard json.objectValue != nil else { throw PlanInputError("expected a JSON object") }
        let found = try reader.string("schema")
        guard found == schema else {
            throw PlanInputError("schema: expected \"\(schema)\", got \"\(found)\"\(found == Plan.schema ? " (a pruning plan: apply it with weakspot prune)" : "")")
        }
        var granularity = QuantizationGranularity.channel
        if let g = json["granularity"], g != .null {
            guard let value = g.stringValue.flatMap(QuantizationGranularity.init(rawValue:)) else { throw reader.fail("granularity", "\"channel\" or \"tensor\"") }
            granularity = value
        }
        var activationBits: Int? = nil
        var calibration = PlanCalibration.minmax
        if let a = json["activations"], a != .null {
            guard a.objectValue != nil else { throw reader.fail("activations", "{\"bits\", \"calibration\"} or null") }
            let r = PlanFieldReader(a, place: "activations")
            guard let b = a["bits"]?.intValue, (2...16).contains(b) else { throw r.fail("bits", "an integer in 2...16") }
            activationBits = b
            if let c = a["calibration"], c != .null {
                guard let method = c.stringValue.flatMap(PlanCalibration.init(rawValue:)) else {
                    throw r.fail("calibration", "one of " + PlanCalibration.allCases.map(\.rawValue).joined(separator: ", "))
                }
                calibration = method
            }
        }
        var layers: [(name: String, bits: Int, activation: CalibrationMethod?)] = [], names = Set<String>()
        for (i, layer) in try reader.array("layers").enumerated() {
            let r = PlanFieldReader(layer, place: "layers[\(i)]")
            guard let name = layer["name"]?.stringValue, !name.isEmpty else { throw r.fail("name", "a layer name") }
            guard let b = layer["bits"]?.intValue, (2...16).contains(b) || b == 32 else { throw r.fail("bits", "an integer in 2...16, or 32 for a float layer") }
            guard names.insert(name).inserted else { throw PlanInputError("layers[\(i)].name: '\(name)' is listed twice") }
            var activation: CalibrationMethod? = nil
            if let a = layer["activation"], a != .null {
                guard let method = a.stringValue.flatMap(CalibrationMethod.init(rawValue:)) else {
                    throw r.fail("activation", "null or one of " + CalibrationMethod.allCases.map(\.rawValue).joined(separator: ", "))
                }
                guard activationBits != nil else {
                    throw PlanInputError("layers[\(i)].activation: the plan quantizes no activations (activations is null), so a layer's output has no calibration")
                }
                activation = method
            } else if calibration == .measured && b < 32 {
                throw PlanInputError("layers[\(i)].activation: expected the calibration of the layer's output (activations.calibration is measured: each quantized layer names its own)")
            }
            // Without `activation`, a layer below 32 bits takes the plan's calibration; at 32 bits it stays as it is.
            if activation == nil && b < 32 && activationBits != nil { activation = calibration.method }
            layers.append((name, b, activation))
        }
        let assignment = Self.assignment(layers: layers, granularity: granularity, activationBits: activationBits, calibration: calibration)
        return (assignment, calibration, layers.map(\.activation))
    }

    public var json: JSONValue {
        func metrics(_ m: [String: Double]?) -> JSONValue {
            guard let m else { return .null }
            return .object(m.mapValues { .double($0) })
        }
        return .object([
            "schema": .string(Self.schema), "model": model, "data": data, "settings": settings,
            "granularity": .string(granularity.rawValue),
            "activations": activationBits.map { .object(["bits": .int($0), "calibration": .string(calibration.rawValue)]) } ?? .null,
            "bitsBefore": .double(bitsBefore), "bitsAfter": .double(bitsAfter), "bytesBefore": .int(bytesBefore), "bytesAfter": .int(bytesAfter), "storedBytesAfter": .int(storedBytesAfter),
            "predicted": metrics(figures.predicted), "measured": metrics(figures.measured),
            "targetMet": .bool(figures.targetMet), "limitsMet": .bool(figures.limitsMet), "backedOff": .bool(figures.backedOff),
            "evaluations": .int(figures.evaluations),
            "layers": .array(layers.map { l in
                .object(["name": .string(l.name), "op": .string(l.op), "params": .int(l.params), "bits": .int(l.bits), "predicted": metrics(l.predicted),
                         "activation": l.activation.map { .string($0.rawValue) } ?? .null])
            }),
            "note": .string(note),
        ])
    }

    /// Reads a whole plan; errors name the key (`layers[3].bits: expected an integer`).
    public init(json: JSONValue) throws(PlanInputError) {
        let reader = PlanFieldReader(json, place: "")
        model = try reader.objectField("model")
        data = try reader.value("data")
        settings = try reader.objectField("settings")
        // Granularity, activations and every layer's bits and activation are checked once, by the reader `quantize` uses too.
        let (assignment, calibration, activations) = try Self.fields(of: json)
        granularity = assignment.granularity
        activationBits = assignment.activationBits
        self.calibration = calibration
        bitsBefore = try reader.number("bitsBefore")
        bitsAfter = try reader.number("bitsAfter")
        bytesBefore = try reader.integer("bytesBefore")
        bytesAfter = try reader.integer("bytesAfter")
        storedBytesAfter = try reader.integer("storedBytesAfter")
        figures = PlanFigures(predicted: try reader.metrics("predicted"), measured: try reader.metrics("measured"),
                              classAccuracyBefore: nil, classAccuracyAfter: nil,
                              targetMet: try reader.bool("targetMet"), limitsMet: try reader.bool("limitsMet"), backedOff: try reader.bool("backedOff"),
                              evaluations: try reader.integer("evaluations"), latencyBeforeMs: nil, latencyAfterMs: nil)
        layers = try reader.array("layers").enumerated().map { (i, item) throws(PlanInputError) in
            let r = PlanFieldReader(item, place: "layers[\(i)]")
            return Layer(name: try r.string("name"), op: try r.string("op"), params: try r.integer("params"), bits: try r.integer("bits"),
                         predicted: try r.metrics("predicted"), activation: activations[i])
        }
        note = try reader.string("note")
    }
}
