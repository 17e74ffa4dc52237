import NetworkIR

/// Where a producer's channels sit in an activation after layout operators moved them.
///
/// Channels start on axis 1 (a Conv's NCHW output, a Gemm's (N, features)). A Transpose moves the
/// axis (axis 3 after a (0,2,3,1) permutation: NHWC); a Reshape, Flatten, Squeeze or Unsqueeze
/// keeps channels identifiable when they end up on one output axis, where position k holds channel
/// (k / step) mod C — step = H·W after an NCHW Flatten (each channel's features consecutive), 1 after
/// an NHWC Flatten (channel c's columns {i·C + c}). Exporters write both layouts, so the dependency
/// analysis, the tails, the masks and the pruner all follow this one description.
public struct ChannelPlacement: Sendable, Equatable {
    /// The axis that holds the channels.
    public var axis: Int
    /// Positions per channel along that axis before the next channel starts (1 = one per channel).
    public var step: Int
    /// Positions of the axis: a multiple of channels × step.
    public var extent: Int

    public init(axis: Int, step: Int = 1, extent: Int) {
        self.axis = axis
        self.step = step
        self.extent = extent
    }

    /// The channel at position k of the axis, for `channels` channels.
    public func channel(at k: Int, channels: Int) -> Int { (k / max(step, 1)) % max(channels, 1) }

    /// The positions of the axis that hold any of `channels` (ascending), for `count` channels.
    public func positions(of kept: [Int], channels count: Int) -> [Int] {
        let set = Set(kept)
        return (0..<extent).filter { set.contains(channel(at: $0, channels: count)) }
    }
}

public enum ChannelLayout {
    /// The channel axis after a Transpose with `permutation`: the output axis that reads it.
    public static func transposed(_ axis: Int, permutation: [Int]) -> Int? {
        permutation.firstIndex(of: axis)
    }

    /// The placement of the channels of an input of shape `input` (channels on `axis`, `step`
    /// positions each) after a row-major reshape to `output`, or nil when channels are spread over
    /// several output axes (a channel shuffle's (N, g, C/g, H, W)) or the batch axis changes.
    ///
    /// Element f of the flattened input holds channel (f / inner) mod (C·step) / step, where inner =
    /// the product of the input axes after `axis`. On output axis j with `after` = the product of
    /// the output axes after j, the channel depends on the position k along j alone when the
    /// channel period (C·step·inner) divides the product of axes j… (earlier axes add whole periods)
    /// and `after` divides inner (later axes stay within one position's block).
    public static func reshaped(_ axis: Int, step: Int, input: [Int], output: [Int], channels: Int) -> ChannelPlacement? {
        guard axis > 0, axis < input.count, output.count >= 2, input.first == output.first else { return nil }
        let inner = input[(axis + 1)...].reduce(1, *)
        let period = channels * step * inner
        for j in 1..<output.count {
            let after = output[(j + 1)...].reduce(1, *)
            let fromJ = output[j...].reduce(1, *)
            guard period > 0, fromJ % period == 0, after > 0, inner % after == 0 else { continue }
            let placement = ChannelPlacement(axis: j, step: step * inner / after, extent: output[j])
            // The axis must cover whole channel periods, and earlier axes must not end mid-period.
            guard output[j] % (channels * placement.step) == 0 else { continue }
            return placement
        }
        return nil
    }

    /// The channel axis after a ReduceMean over `axes`, or nil when the channels are reduced.
    public static func reduced(_ axis: Int, axes: [Int], keepDims: Bool) -> Int? {
        if axes.contains(axis) { return nil }
        return keepDims ? axis : axis - axes.filter { $0 < axis }.count
    }

    /// Whether a constant of shape `constant`, broadcast (numpy, right-aligned) against an
    /// activation of rank `rank` whose channels are on `axis`, holds one value per channel:
    /// every dimension is 1 except the one aligned with the channel axis, which is `channels`.
    /// (1,C,1,1), (C,1,1) on NCHW; (1,1,1,C), (C) on NHWC; (C) on (N, C).
    public static func isPerChannel(constant: [Int], rank: Int, axis: Int, channels: Int) -> Bool {
        guard constant.count <= rank else { return false }
        let aligned = axis - (rank - constant.count)
        guard aligned >= 0, constant[aligned] == channels else { return false }
        return constant.enumerated().allSatisfy { $0.offset == aligned || $0.element == 1 }
    }
}
