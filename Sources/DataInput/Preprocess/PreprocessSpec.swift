/// Memory order of one preprocessed image, as the model's input expects it. The raw values match
/// NetworkIR's `InputLayout`, so `PreprocessLayout(rawValue: input.layout.rawValue)` converts.
public enum PreprocessLayout: String, Sendable, Equatable {
    /// Channels, then rows, then columns (PyTorch, most ONNX exports).
    case nchw = "NCHW"
    /// Rows, then columns, then channels (Keras/TensorFlow exports).
    case nhwc = "NHWC"
}

/// What is done to a decoded image before it reaches the model, defined as torchvision does it on
/// a PIL image: `Resize` (PIL's antialiased bilinear), `CenterCrop` (zero padding when the crop is
/// larger), `ToTensor` (divide by 255), `Normalize(mean, std)`. Each output value is
/// `(Float(pixel) / 255 - mean[c]) / std[c]`, computed in Float in that order, as torch does.
public struct PreprocessSpec: Sendable, Equatable {
    /// torchvision's `Resize` size argument.
    public enum Resize: Sendable, Equatable {
        /// `Resize(n)`: the shorter side becomes n, the longer `int(n * long / short)`.
        case shorterSide(Int)
        /// `Resize((height, width))`.
        case size(height: Int, width: Int)
    }

    /// `CenterCrop((height, width))`.
    public struct Crop: Sendable, Equatable {
        public var height: Int
        public var width: Int
        public init(height: Int, width: Int) { self.height = height; self.width = width }
        public init(_ side: Int) { self.init(height: side, width: side) }
    }

    /// nil: keep the decoded size.
    public var resize: Resize?
    /// nil: no crop.
    public var crop: Crop?
    /// Per-channel mean and standard deviation, in [0, 1] units; one value applies to every channel.
    public var mean: [Float]
    public var std: [Float]
    /// Output channels: 3 (grey images are replicated, as `convert("RGB")` does) or 1 (colour
    /// images are converted with PIL's `convert("L")` weights).
    public var channels: Int

    public init(resize: Resize?, crop: Crop?, mean: [Float], std: [Float], channels: Int = 3) {
        self.resize = resize
        self.crop = crop
        self.mean = mean
        self.std = std
        self.channels = channels
    }

    /// Resize(256), CenterCrop(224), ToTensor, Normalize(ImageNet mean and std).
    public static let imagenet = PreprocessSpec(
        resize: .shorterSide(256), crop: Crop(224),
        mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])

    /// The ImageNet geometry, then values scaled to [-1, 1]: Normalize(0.5, 0.5) after ToTensor.
    public static let inception = PreprocessSpec(
        resize: .shorterSide(256), crop: Crop(224), mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5])

    /// No resize, no crop, ToTensor only: values `pixel / 255` in [0, 1]. Images must already have
    /// the model's input size.
    public static let raw = PreprocessSpec(resize: nil, crop: nil, mean: [0, 0, 0], std: [1, 1, 1])

    /// `imagenet`, `inception` or `raw`; nil for any other name.
    public static func preset(named name: String) -> PreprocessSpec? {
        switch name {
        case "imagenet": .imagenet
        case "inception": .inception
        case "raw": .raw
        default: nil
        }
    }

    /// Checks sizes (positive), channels (1 or 3), mean/std counts (1 or `channels`) and that no
    /// std is zero or non-finite.
    public func validate() throws(PreprocessError) {
        switch resize {
        case .shorterSide(let n) where n <= 0:
            throw PreprocessError("resize: expected a positive size, got \(n)")
        case .size(let h, let w) where h <= 0 || w <= 0:
            throw PreprocessError("resize: expected a positive height and width, got \(h)x\(w)")
        default: break
        }
        if let crop, crop.height <= 0 || crop.width <= 0 {
            throw PreprocessError("crop: expected a positive height and width, got \(crop.height)x\(crop.width)")
        }
        guard channels == 1 || channels == 3 else {
            throw PreprocessError("channels: expected 1 or 3, got \(channels)")
        }
        for (name, values) in [("mean", mean), ("std", std)] {
            guard values.count == 1 || values.count == channels else {
                throw PreprocessError("\(name): expected 1 or \(channels) values, got \(values.count)")
            }
            guard values.allSatisfy(\.isFinite) else {
                throw PreprocessError("\(name): expected finite values, got \(values)")
            }
        }
        guard std.allSatisfy({ $0 != 0 }) else {
            throw PreprocessError("std: expected non-zero values, got \(std)")
        }
    }
}

/// Why an image could not be preprocessed (a bad specification, or a geometry that would produce
/// an unreasonably large tensor). `description` is a lower-case fragment: where, then expected
/// versus got.
public struct PreprocessError: Error, CustomStringConvertible, Sendable, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
