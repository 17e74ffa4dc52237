import NetworkIR
import Support

/// How training inputs vary from epoch to epoch: a random crop of the model's input size out of a
/// stored sample `margin` pixels larger on every side, a horizontal flip with probability ½, and
/// optionally mixup: λ·(this view) + (1 − λ)·(a view of another input), λ uniform in [0, 1).
/// Every choice is derived from (seed, epoch, sample index) alone, so a resumed run draws exactly
/// what an uninterrupted one would.
///
/// Mixup is for distillation: the teacher sees the same mixture, so the student learns the
/// teacher's function between the training images, which transfers better to unseen images when
/// they are few (docs/finetune-experiment.md). With labels it would need mixed labels too, so
/// `FineTuner` refuses it there.
public struct AugmentSettings: Sendable, Equatable, Codable {
    public var randomCrop: Bool
    public var flip: Bool
    public var mixup: Bool
    public static let none = AugmentSettings(randomCrop: false, flip: false)
    public init(randomCrop: Bool, flip: Bool, mixup: Bool = false) { self.randomCrop = randomCrop; self.flip = flip; self.mixup = mixup }

    enum CodingKeys: String, CodingKey { case randomCrop, flip, mixup }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        randomCrop = try c.decode(Bool.self, forKey: .randomCrop)
        flip = try c.decode(Bool.self, forKey: .flip)
        mixup = try c.decodeIfPresent(Bool.self, forKey: .mixup) ?? false
    }
    /// `mixup` is written only when on, so that the settings of a run without it encode as before
    /// and checkpoints written before mixup existed still match their run's fingerprint.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(randomCrop, forKey: .randomCrop)
        try c.encode(flip, forKey: .flip)
        if mixup { try c.encode(mixup, forKey: .mixup) }
    }
}

/// Training inputs held in memory, each stored `margin` pixels larger than the model's input on
/// every side (real image content for image folders, reflected borders for tensors given at the
/// model's size), with optional labels.
public struct TrainingSet: Sendable {
    /// The model's input sample shape: (C, H, W) for NCHW, (H, W, C) for NHWC.
    public let sampleShape: [Int]
    public let layout: InputLayout
    public let margin: Int
    public let count: Int
    public let labels: [Int]?
    let storage: [Float]
    let channels: Int, height: Int, width: Int

    /// `stored`: `count` samples of (height + 2·margin) × (width + 2·margin) in the model's layout.
    public init(stored: [Float], count: Int, sampleShape: [Int], layout: InputLayout, margin: Int, labels: [Int]?) throws(TrainingError) {
        guard sampleShape.count == 3 else { throw TrainingError("training inputs: expected an image input (3 dimensions per sample), got \(sampleShape)") }
        (channels, height, width) = layout == .nchw ? (sampleShape[0], sampleShape[1], sampleShape[2]) : (sampleShape[2], sampleShape[0], sampleShape[1])
        guard margin >= 0, count > 0 else { throw TrainingError("training inputs: expected at least one input") }
        let per = channels * (height + 2 * margin) * (width + 2 * margin)
        guard stored.count == count * per else {
            throw TrainingError("training inputs: expected \(count) × \(per) values, got \(stored.count)")
        }
        if let labels, labels.count != count { throw TrainingError("labels: expected \(count) (one per input), got \(labels.count)") }
        self.sampleShape = sampleShape
        self.layout = layout
        self.margin = margin
        self.count = count
        self.labels = labels
        self.storage = stored
    }

    /// Pads inputs given at the model's size by reflecting `margin` pixels at every border
    /// (torchvision's `RandomCrop(padding=margin, padding_mode='reflect')` geometry).
    public static func reflectPadded(_ inputs: [Float], count: Int, sampleShape: [Int], layout: InputLayout, margin: Int, labels: [Int]?) throws(TrainingError) -> TrainingSet {
        guard sampleShape.count == 3 else { throw TrainingError("training inputs: expected an image input (3 dimensions per sample), got \(sampleShape)") }
        let (c, h, w) = layout == .nchw ? (sampleShape[0], sampleShape[1], sampleShape[2]) : (sampleShape[2], sampleShape[0], sampleShape[1])
        guard margin < h, margin < w else { throw TrainingError("crop margin \(margin) must be smaller than the input's \(h)×\(w)") }
        guard inputs.count == count * c * h * w else { throw TrainingError("training inputs: expected \(count) × \(c * h * w) values, got \(inputs.count)") }
        let (sh, sw) = (h + 2 * margin, w + 2 * margin)
        var out = [Float](repeating: 0, count: count * c * sh * sw)
        for n in 0..<count {
            for y in 0..<sh {
                let sy = PadMode.reflect.sourceIndex(y - margin, size: h)!
                for x in 0..<sw {
                    let sx = PadMode.reflect.sourceIndex(x - margin, size: w)!
                    for ch in 0..<c {
                        let from = layout == .nchw ? ((n * c + ch) * h + sy) * w + sx : ((n * h + sy) * w + sx) * c + ch
                        let to = layout == .nchw ? ((n * c + ch) * sh + y) * sw + x : ((n * sh + y) * sw + x) * c + ch
                        out[to] = inputs[from]
                    }
                }
            }
        }
        return try TrainingSet(stored: out, count: count, sampleShape: sampleShape, layout: layout, margin: margin, labels: labels)
    }

    /// The order of the samples in `epoch`: a seeded Fisher–Yates shuffle, or 0..<count.
    public func order(epoch: Int, seed: UInt64, shuffle: Bool) -> [Int] {
        var order = Array(0..<count)
        guard shuffle else { return order }
        var rng = SplitMix64(seed: seed ^ (UInt64(epoch + 1) &* 0xA076_1D64_78BD_642F))
        for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, rng.next(below: i + 1)) }
        return order
    }

    /// The model-sized inputs of `indices` as one batch: each sample cropped (randomly with
    /// `augment.randomCrop`, else at the centre) and maybe flipped; with `augment.mixup`, mixed
    /// with a view of another input drawn from the same stream.
    public func batch(_ indices: [Int], epoch: Int, seed: UInt64, augment: AugmentSettings) -> Tensor {
        let per = channels * height * width
        var out = [Float](repeating: 0, count: indices.count * per)
        for (k, index) in indices.enumerated() {
            var rng = SplitMix64(seed: seed ^ (UInt64(epoch + 1) &* 0xE703_7ED1_A0B4_28DB) ^ (UInt64(index + 1) &* 0x8EBC_6AF0_9C88_C6E3))
            let view = drawView(&rng, augment: augment)
            guard augment.mixup, count > 1 else {
                addView(of: index, view, weight: 1, into: &out, at: k * per)
                continue
            }
            var partner = rng.next(below: count - 1)
            if partner >= index { partner += 1 }
            let lambda = Float(rng.nextUnit())
            addView(of: index, view, weight: lambda, into: &out, at: k * per)
            addView(of: partner, drawView(&rng, augment: augment), weight: 1 - lambda, into: &out, at: k * per)
        }
        return Tensor(shape: [indices.count] + sampleShape, storage: out)
    }

    /// The first `count` inputs as they are, centre-cropped and unflipped, in batches of `batch`:
    /// what validation without `--val` and `--recalibrate` read.
    public func plainBatches(first count: Int, batch: Int) -> [Tensor] {
        let n = min(count, self.count), size = max(batch, 1)
        return Swift.stride(from: 0, to: n, by: size).map {
            self.batch(Array($0..<min($0 + size, n)), epoch: 0, seed: 0, augment: AugmentSettings(randomCrop: false, flip: false))
        }
    }

    /// A crop offset (y, x) within the margin and a flip.
    func drawView(_ rng: inout SplitMix64, augment: AugmentSettings) -> (oy: Int, ox: Int, flip: Bool) {
        let oy = augment.randomCrop ? rng.next(below: 2 * margin + 1) : margin
        let ox = augment.randomCrop ? rng.next(below: 2 * margin + 1) : margin
        return (oy, ox, augment.flip && rng.next() & 1 == 1)
    }

    /// Adds weight × the view of stored input `index` to the model-sized sample at `target`.
    func addView(of index: Int, _ view: (oy: Int, ox: Int, flip: Bool), weight: Float, into out: inout [Float], at target: Int) {
        let (sh, sw) = (height + 2 * margin, width + 2 * margin)
        let base = index * channels * sh * sw
        for y in 0..<height {
            for x in 0..<width {
                let sx = view.ox + (view.flip ? width - 1 - x : x)
                for c in 0..<channels {
                    let from = layout == .nchw ? base + (c * sh + y + view.oy) * sw + sx : base + ((y + view.oy) * sw + sx) * channels + c
                    let to = layout == .nchw ? target + (c * height + y) * width + x : target + (y * width + x) * channels + c
                    out[to] += weight * storage[from]
                }
            }
        }
    }
}
