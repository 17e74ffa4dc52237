import Planning
import Quantization
import Support

/// Reads the quantization plan `quantize` applies (`QuantizationPlan.assignment(of:)`: only the
/// keys it needs, so a hand-written plan works), naming the file in every error.
enum QuantizePlanFile {
    static func read(path: String, limits: JSONLimits) throws(CLIError) -> QuantizationAssignment {
        let json = try JSONFileOptions.read(path, limits: limits, expected: "a quantization plan (JSON, schema \(QuantizationPlan.schema))")
        do { return try QuantizationPlan.assignment(of: json) } catch { throw CLIError.input("\(path): \(error.description)") }
    }
}
