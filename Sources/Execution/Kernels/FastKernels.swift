import Foundation
import Linalg
import NetworkIR
import Support

/// The Linalg-backed convolution: weights packed once per padding (auto_pad SAME resolves its
/// padding from the input size, so a model fed several sizes gets one packing per size class).
final class FastConvolution: Sendable {
    let attributes: ConvAttributes
    let weights: [Float]
    let bias: [Float]?
    let inputChannels: Int
    let outputChannels: Int
    let winograd: Conv2D.WinogradChoice
    private let packed: Locked<[[Int]: Conv2D]>

    private init(attributes: ConvAttributes, weights: Tensor, bias: [Float]?, winograd: WinogradUse) {
        self.attributes = attributes
        self.weights = weights.storage
        self.bias = bias
        self.outputChannels = weights.shape[0]
        self.inputChannels = weights.shape[1] * attributes.groups
        self.packed = Locked([:])
        switch winograd {
        case .off: self.winograd = .never
        case .largePlanes: self.winograd = .automatic
        case .allPlanes: self.winograd = .includingSmallPlanes
        }
    }

    static func make(attributes: ConvAttributes, weights: Tensor, bias: [Float]?, winograd: WinogradUse) -> ConvolutionBackend {
        let fast = FastConvolution(attributes: attributes, weights: weights, bias: bias, winograd: winograd)
        if attributes.autoPad == .notSet || attributes.autoPad == .valid {
            // Pack eagerly for fixed padding; a geometry Linalg refuses stays on the reference path.
            let pads = attributes.resolvedPads(inputHeight: 1, inputWidth: 1)
            guard (try? fast.convolution(pads: pads)) != nil else { return .reference }
        }
        return .fast(fast)
    }

    func convolution(pads: [Int]) throws -> Conv2D {
        if let c = packed.withLock({ $0[pads] }) { return c }
        let a = attributes
        let geometry = ConvGeometry(inputChannels: inputChannels, outputChannels: outputChannels,
                                    kernelHeight: a.kernel[0], kernelWidth: a.kernel[1],
                                    strideHeight: a.strides[0], strideWidth: a.strides[1],
                                    padTop: pads[0], padLeft: pads[1], padBottom: pads[2], padRight: pads[3],
                                    dilationHeight: a.dilations[0], dilationWidth: a.dilations[1], groups: a.groups)
        let c = try Conv2D(weights: weights, bias: bias, geometry: geometry, winograd: winograd)
        packed.withLock { $0[pads] = c }
        return c
    }

    func run(_ x: Tensor, residual: Tensor?, activation: FusedActivation, threads: Int) throws(ExecutionError) -> Tensor {
        let (n, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let size = attributes.outputSize(inputHeight: h, inputWidth: w)
        let shape = [n, outputChannels, size.height, size.width]
        if let residual, residual.shape != shape {
            throw ExecutionError("residual \(residual.shape) does not match the convolution's output \(shape)")
        }
        do {
            let conv = try convolution(pads: attributes.resolvedPads(inputHeight: h, inputWidth: w))
            return try Tensor(shape: shape) { out in
                try x.storage.withUnsafeBufferPointer { input in
                    try residual.withStorage { r in
                        try conv.run(input: input.baseAddress!, batch: n, inputHeight: h, inputWidth: w, output: out.baseAddress!,
                                     residual: r, activation: activation.linalg, threads: threads)
                    }
                }
            }
        } catch let e as ExecutionError {
            throw e
        } catch {
            throw ExecutionError("\(error)")
        }
    }
}

/// The Linalg-backed dense layer.
final class FastDense: Sendable {
    let dense: Dense

    private init(dense: Dense) { self.dense = dense }

    /// `weights` is [out × in].
    static func make(weights: Tensor, bias: [Float]?) -> DenseBackend {
        guard let d = try? Dense(weights: weights.storage, layout: .outputByInput, inputFeatures: weights.shape[1],
                                 outputFeatures: weights.shape[0], bias: bias) else { return .reference }
        return .fast(FastDense(dense: d))
    }

    func run(_ x: Tensor, activation: FusedActivation, threads: Int) throws(ExecutionError) -> Tensor {
        let n = x.shape[0]
        do {
            return try Tensor(shape: [n, dense.outputFeatures]) { out in
                try x.storage.withUnsafeBufferPointer { input in
                    try dense.run(input: input.baseAddress!, batch: n, output: out.baseAddress!, residual: nil,
                                  activation: activation.linalg, threads: threads)
                }
            }
        } catch {
            throw ExecutionError("\(error)")
        }
    }
}

extension FusedActivation {
    var linalg: Activation {
        switch self {
        case .none: .none
        case .relu: .relu
        case .clip(let lo, let hi): .clip(min: lo, max: hi)
        }
    }
}

extension Optional where Wrapped == Tensor {
    /// Calls `body` with a pointer to the storage, or nil.
    func withStorage<R>(_ body: (UnsafePointer<Float>?) throws -> R) rethrows -> R {
        switch self {
        case .none: return try body(nil)
        case .some(let t): return try t.storage.withUnsafeBufferPointer { try body($0.baseAddress) }
        }
    }
}
