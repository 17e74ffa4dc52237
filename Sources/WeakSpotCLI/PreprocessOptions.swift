import DataInput
import NetworkIR

/// `--preprocess`, `--resize`, `--crop`, `--mean`, `--std`, `--max-pixels`: how images become
/// model inputs (SPEC.md, "DATA"). Shared by every command that reads `--data`.
enum PreprocessOptions {
    static let specs: [OptionSpec] = [
        .value("preprocess", "preset",
               help: "imagenet (resize 256, crop 224, ImageNet mean/std), inception (same geometry, values in [-1, 1]) or raw (pixel/255, no resize).",
               default: "imagenet"),
        .value("resize", "size", help: "Resize the shorter side to N, or to exactly HxW (PIL's antialiased bilinear)."),
        .value("crop", "size", help: "Center-crop to N×N or HxW."),
        .value("mean", "r,g,b", help: "Per-channel mean in [0, 1] units, subtracted after scaling to [0, 1]."),
        .value("std", "r,g,b", help: "Per-channel standard deviation in [0, 1] units."),
        .value("max-pixels", "n", help: "Refuse images declaring more pixels (width × height) before decoding.",
               default: "178956970"),
    ]

    /// The preprocessing for `input` (nil: no model, the preset as is): the preset, adapted to
    /// the model, then the explicit options.
    ///
    /// When neither `--resize` nor `--crop` is given and the model's image is not 224×224, the
    /// `imagenet` and `inception` geometry is scaled to it as torchvision's convention does
    /// (crop to the model's H×W, resize the shorter side to ⌊min(H, W) · 256 / 224⌋): a 64×64
    /// model gets resize 73, crop 64. A one-channel model gets one-channel (PIL `L`) input with
    /// the preset's mean and std averaged.
    static func spec(_ arguments: ParsedArguments, input: GraphInput?) throws(CLIError) -> PreprocessSpec {
        let presetName = arguments.value("preprocess") ?? "imagenet"
        guard var spec = PreprocessSpec.preset(named: presetName) else {
            throw arguments.usageError("--preprocess: expected one of imagenet, inception, raw, got '\(presetName)'")
        }
        let (channels, height, width) = imageSize(input)
        if channels == 1 {
            spec.channels = 1
            spec.mean = [spec.mean.reduce(0, +) / Float(max(1, spec.mean.count))]
            spec.std = [spec.std.reduce(0, +) / Float(max(1, spec.std.count))]
        }
        let resize = try arguments.size("resize")
        let crop = try arguments.size("crop")
        if resize == nil && crop == nil, spec.crop != nil, let height, let width, height != 224 || width != 224 {
            spec.crop = PreprocessSpec.Crop(height: height, width: width)
            spec.resize = .shorterSide(min(height, width) * 256 / 224)
        }
        if let resize {
            spec.resize = resize.square ? .shorterSide(resize.height) : .size(height: resize.height, width: resize.width)
        }
        if let crop { spec.crop = PreprocessSpec.Crop(height: crop.height, width: crop.width) }
        if let mean = try arguments.numberList("mean") { spec.mean = mean }
        if let std = try arguments.numberList("std") { spec.std = std }
        do {
            try spec.validate()
        } catch {
            throw arguments.usageError("--\(error.description)")
        }
        return spec
    }

    static func limits(_ arguments: ParsedArguments) throws(CLIError) -> ImageLimits {
        ImageLimits(maxPixels: try arguments.integer("max-pixels", default: ImageLimits().maxPixels, in: 1...Int.max))
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
