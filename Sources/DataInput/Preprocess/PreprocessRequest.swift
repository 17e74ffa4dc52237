import Support

/// `--preprocess`, `--resize`, `--crop`, `--mean`, `--std`, `--max-pixels`: how images become
/// model inputs (SPEC.md, "DATA"), declared once for every command that reads `--data` images, so
/// `run`, `profile`, `plan`, `finetune` and `bench` parse and describe them alike.
public struct PreprocessRequest: OptionRequest {
    /// An image size as typed: `N` (square, or a shorter side for `--resize`) or `HxW`.
    public struct Size: Sendable, Equatable {
        public var height: Int
        public var width: Int
        /// Given as one number: `--resize N` then sets the shorter side, not the exact size.
        public var square: Bool
    }

    public var preset = PreprocessPreset.imagenet
    public var resize: Size? = nil
    public var crop: Size? = nil
    public var mean: [Float]? = nil
    public var std: [Float]? = nil
    public var maxPixels = ImageLimits().maxPixels

    public init() {}

    public var limits: ImageLimits { ImageLimits(maxPixels: maxPixels) }

    /// The preprocessing for a model whose image input has `channels`, `height`, `width` (nil
    /// when unknown, as without a model): the preset, adapted to the model, then the explicit
    /// options.
    ///
    /// When neither `--resize` nor `--crop` is given and the model's image is not 224×224, the
    /// `imagenet` and `inception` geometry is scaled to it as torchvision's convention does
    /// (crop to the model's H×W, resize the shorter side to ⌊min(H, W) · 256 / 224⌋): a 64×64
    /// model gets resize 73, crop 64. A one-channel model gets one-channel (PIL `L`) input with
    /// the preset's mean and std averaged.
    public func spec(channels: Int?, height: Int?, width: Int?) throws(OptionError) -> PreprocessSpec {
        var spec = preset.spec
        if channels == 1 {
            spec.channels = 1
            spec.mean = [spec.mean.reduce(0, +) / Float(max(1, spec.mean.count))]
            spec.std = [spec.std.reduce(0, +) / Float(max(1, spec.std.count))]
        }
        if resize == nil && crop == nil, spec.crop != nil, let height, let width, height != 224 || width != 224 {
            spec.crop = PreprocessSpec.Crop(height: height, width: width)
            spec.resize = .shorterSide(min(height, width) * 256 / 224)
        }
        if let resize {
            spec.resize = resize.square ? .shorterSide(resize.height) : .size(height: resize.height, width: resize.width)
        }
        if let crop { spec.crop = PreprocessSpec.Crop(height: crop.height, width: crop.width) }
        if let mean { spec.mean = mean }
        if let std { spec.std = std }
        do { try spec.validate() } catch { throw OptionError("--\(error.description)") }
        return spec
    }

    /// The image height and width the data will have when nothing else says: `--crop`, an
    /// exact `--resize HxW`, or the preset's crop (nil for `--resize N` or the raw preset).
    public var fixedImageSize: (height: Int, width: Int)? {
        if let crop { return (crop.height, crop.width) }
        if let resize { return resize.square ? nil : (resize.height, resize.width) }
        return preset.spec.crop.map { ($0.height, $0.width) }
    }

    public static let declarations: [OptionDeclaration<PreprocessRequest>] = [
        .value("preprocess", "preset", \.preset, .choice,
               help: "imagenet (resize 256, crop 224, ImageNet mean/std), inception (same geometry, values in [-1, 1]) or raw (pixel/255, no resize).",
               effect: .result, sample: "raw"),
        .value("resize", "size", \.resize, Size.parser.optional, help: "Resize the shorter side to N, or to exactly HxW (PIL's antialiased bilinear).",
               effect: .result, sample: "32"),
        .value("crop", "size", \.crop, Size.parser.optional, help: "Center-crop to N×N or HxW.", effect: .result, sample: "16x16"),
        .value("mean", "r,g,b", \.mean, numbers.optional, help: "Per-channel mean in [0, 1] units, subtracted after scaling to [0, 1].",
               effect: .result, sample: "0.5,0.5,0.5"),
        .value("std", "r,g,b", \.std, numbers.optional, help: "Per-channel standard deviation in [0, 1] units.",
               effect: .result, sample: "0.25,0.25,0.25"),
        .value("max-pixels", "n", \.maxPixels, .integer(in: 1...Int.max), help: "Refuse images declaring more pixels (width × height) before decoding.",
               effect: .result, sample: "1000000"),
    ]

    /// `r,g,b`: finite numbers, spaces around them allowed.
    static let numbers = ValueParser<[Float]>(parse: { (text: String) throws(OptionError) -> [Float] in
        var result: [Float] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let number = Float(part.trimmingCharacters(in: " \t")), number.isFinite else {
                throw OptionError("expected comma-separated numbers like 0.485,0.456,0.406, got '\(text)'")
            }
            result.append(number)
        }
        return result
    }, setting: { .strings($0.map { "\($0)" }) }, text: { $0.map { "\($0)" }.joined(separator: ",") })
}

/// `--preprocess`: the named presets of `PreprocessSpec`.
public enum PreprocessPreset: String, CaseIterable, Sendable {
    case imagenet, inception, raw

    public var spec: PreprocessSpec {
        switch self {
        case .imagenet: .imagenet
        case .inception: .inception
        case .raw: .raw
        }
    }
}

extension PreprocessRequest.Size {
    /// `N` or `HxW`, each positive and at most 2^20.
    static let parser = ValueParser<PreprocessRequest.Size>(parse: { (text: String) throws(OptionError) -> PreprocessRequest.Size in
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        let numbers = parts.compactMap { Int($0) }
        guard numbers.count == parts.count, numbers.allSatisfy({ $0 > 0 && $0 <= 1 << 20 }) else {
            throw OptionError("expected a positive size N or HxW (like 224 or 224x160), got '\(text)'")
        }
        switch numbers.count {
        case 1: return PreprocessRequest.Size(height: numbers[0], width: numbers[0], square: true)
        case 2: return PreprocessRequest.Size(height: numbers[0], width: numbers[1], square: false)
        default: throw OptionError("expected N or HxW, got '\(text)'")
        }
    }, setting: { .string($0.square ? "\($0.height)" : "\($0.height)x\($0.width)") },
    text: { $0.square ? "\($0.height)" : "\($0.height)x\($0.width)" })
}

private extension Substring {
    func trimmingCharacters(in set: String) -> Substring {
        var s = self
        while let c = s.first, set.contains(c) { s = s.dropFirst() }
        while let c = s.last, set.contains(c) { s = s.dropLast() }
        return s
    }
}
