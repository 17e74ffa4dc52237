import Linalg
import NetworkIR

/// What an incremental run starts from: every activation of the unperturbed run, and the channels
/// (axis 1) in which the values changed by interventions differ from it.
///
/// While a change stays channel-local — per-channel operators, BatchNormalization, pooling,
/// binary operators whose other operand is unchanged, depthwise convolutions — the run knows which
/// channels differ. A plain convolution reading a value that differs in channels S is then updated
/// from its cached output with a convolution of only those channels, (new − old)[:, S] ⊛ W[:, S]:
/// |S|/C_in of its cost. Exact up to float rounding (the sum is reassociated).
public struct IncrementalBase: Sendable {
    public var cache: [ValueID: Tensor]
    public var changed: [ValueID: [Int]]

    public init(cache: [ValueID: Tensor], changed: [ValueID: [Int]]) {
        self.cache = cache
        self.changed = changed
    }
}

/// How a step's output differs from the cache, given how its inputs differ.
enum ChannelChange {
    case unchanged
    case channels([Int])
    case all
}

extension ExecutionPlan {
    /// Runs `step` incrementally when it can; returns nil when the step must run in full.
    func incrementalOutput(_ step: Step, inputs: [Tensor], changes: [ChannelChange], base: IncrementalBase, threads: Int)
        throws(ExecutionError) -> (Tensor, ChannelChange)? {
        var changedPositions: [Int] = []
        for (i, c) in changes.enumerated() {
            switch c {
            case .unchanged: continue
            case .all: return nil
            case .channels: changedPositions.append(i)
            }
        }
        guard changedPositions.count == 1, case .channels(let s) = changes[changedPositions[0]] else { return nil }
        let position = changedPositions[0]
        let kernel = step.kernel
        if let conv = kernel as? ConvolutionKernel, position == 0, step.inputs.count == 1, conv.activation == .none,
           let oldInput = base.cache[step.inputs[0]], let oldOutput = base.cache[step.output] {
            guard let result = try conv.updated(oldOutput: oldOutput, oldInput: oldInput, newInput: inputs[0], channels: s, threads: threads) else { return nil }
            return (result, conv.isDepthwise ? .channels(s) : .all)
        }
        let channelLocal: Bool
        switch kernel {
        case is UnaryKernel, is ChannelAffineKernel, is PoolKernel: channelLocal = position == 0
        case let mean as MeanOverTrailingAxesKernel: channelLocal = position == 0 && mean.reducedFrom >= 2
        case is BinaryKernel:
            // Binary operators never mix channels, unless the changed operand is broadcast along them.
            let x = inputs[position], other = inputs[1 - position]
            let rank = max(x.rank, other.rank)
            let otherChannels = other.rank >= rank - 1 && rank >= 2 ? other.shape[1 - (rank - other.rank)] : 1
            channelLocal = x.rank == rank && rank >= 2 && (x.shape[1] != 1 || otherChannels == 1)
        default: channelLocal = false
        }
        guard channelLocal else { return nil }
        return (try kernel.run(inputs, batch: inputs[0].shape.first ?? 1, threads: threads), .channels(s))
    }
}

extension ConvolutionKernel {
    var isDepthwise: Bool { attributes.groups > 1 && weights.shape[1] == 1 && attributes.groups == weights.shape[0] }

    /// The output for `newInput`, which differs from `oldInput` only in `channels`, from the
    /// cached `oldOutput`. Nil for grouped (non-depthwise) convolutions.
    func updated(oldOutput: Tensor, oldInput: Tensor, newInput: Tensor, channels: [Int], threads: Int) throws(ExecutionError) -> Tensor? {
        guard attributes.groups == 1 || isDepthwise, oldInput.shape == newInput.shape, newInput.rank == 4 else { return nil }
        let (n, c, h, w) = (newInput.shape[0], newInput.shape[1], newInput.shape[2], newInput.shape[3])
        let s = channels.filter { $0 >= 0 && $0 < c }
        if s.isEmpty { return oldOutput }
        let (kh, kw) = (attributes.kernel[0], attributes.kernel[1])
        let outC = weights.shape[0]
        let plane = h * w
        var result = oldOutput
        do {
            if isDepthwise {
                for ch in s {
                    var difference = [Float](repeating: 0, count: n * plane)
                    for b in 0..<n {
                        let base = (b * c + ch) * plane
                        for i in 0..<plane { difference[b * plane + i] = newInput.storage[base + i] - oldInput.storage[base + i] }
                    }
                    try ConvolutionDelta.addDepthwise(plane: difference, height: h, width: w,
                                                      filter: Array(weights.storage[ch * kh * kw ..< (ch + 1) * kh * kw]),
                                                      attributes: attributes, channel: ch, to: &result, threads: threads)
                }
                return result
            }
            let perFilter = c * kh * kw
            var sliced = [Float](repeating: 0, count: outC * s.count * kh * kw)
            for o in 0..<outC {
                for (j, ch) in s.enumerated() {
                    for t in 0..<(kh * kw) { sliced[(o * s.count + j) * kh * kw + t] = weights.storage[o * perFilter + ch * kh * kw + t] }
                }
            }
            var difference = [Float](repeating: 0, count: n * s.count * plane)
            for b in 0..<n {
                for (j, ch) in s.enumerated() {
                    let base = (b * c + ch) * plane
                    for i in 0..<plane { difference[(b * s.count + j) * plane + i] = newInput.storage[base + i] - oldInput.storage[base + i] }
                }
            }
            try ConvolutionDelta.add(input: difference, inputChannels: s.count, height: h, width: w, filters: sliced,
                                     attributes: attributes, targets: Array(0..<outC), to: &result, threads: threads)
            return result
        } catch {
            throw ExecutionError("incremental convolution: \(error)")
        }
    }
}
