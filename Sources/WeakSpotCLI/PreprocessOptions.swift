import DataInput
import NetworkIR

/// The preprocessing options (`PreprocessRequest` declares them) as `OptionSpec`s, and the
/// model-dependent parts: the image size of a graph input, its layout, a one-line description.
enum PreprocessOptions {
    static let specs: [OptionSpec] = OptionSpec.declared(PreprocessRequest.self)

    /// The preprocessing for `input` (nil: no model, the preset as is): `PreprocessRequest.spec`
    /// at the input's image size.
    static func spec(_ arguments: ParsedArguments, input: GraphInput?) throws(CLIError) -> PreprocessSpec {
        let request = try arguments.request(PreprocessRequest.self)
        let (channels, height, width) = imageSize(input)
        do { return try request.spec(channels: channels, height: height, width: width) } catch { throw arguments.usageError(error.message) }
    }

    static func limits(_ arguments: ParsedArguments) throws(CLIError) -> ImageLimits {
        try arguments.request(PreprocessRequest.self).limits
    }

    static func layout(_ input: GraphInput) -> PreprocessLayout {
        PreprocessLayout(rawValue: input.layout.rawValue) ?? .nchw
    }

    /// Channels, height and width of one image input (nil when the input is not rank 3).
    static func imageSize(_ input: GraphInput?) -> (channels: Int?, height: Int?, width: Int?) {
        guard let input, input.sampleShape.count == 3 else { return (nil, nil, nil) }
        let s = input.sampleShape
        switch input.layout {
        case .nchw: return (s[0], s[1], s[2])
        case .nhwc: return (s[2], s[0], s[1])
        }
    }

    /// Describes `spec` in one line for summaries: `resize 256, crop 224x224, mean [...], std [...]`.
    static func describe(_ spec: PreprocessSpec) -> String {
        var parts: [String] = []
        switch spec.resize {
        case .shorterSide(let n): parts.append("resize \(n)")
        case .size(let h, let w): parts.append("resize \(h)x\(w)")
        case nil: parts.append("no resize")
        }
        if let crop = spec.crop { parts.append("crop \(crop.height)x\(crop.width)") }
        parts.append("mean \(spec.mean.map { "\($0)" }.joined(separator: ","))")
        parts.append("std \(spec.std.map { "\($0)" }.joined(separator: ","))")
        return parts.joined(separator: ", ")
    }
}
