import Foundation
import Support

/// The update rules, as PyTorch's `torch.optim` defines them (single-tensor, non-foreach forms).
public enum OptimizerKind: String, Sendable, CaseIterable, Codable {
    /// `Adam`: weight decay is an L2 term added to the gradient.
    case adam
    /// `AdamW`: weight decay shrinks the parameter directly (decoupled), as Loshchilov & Hutter.
    case adamw
    /// `SGD` with optional momentum (dampening 0, no Nesterov).
    case sgd
}

public struct OptimizerSettings: Sendable, Equatable, Codable {
    public var kind: OptimizerKind
    public var learningRate: Float
    public var weightDecay: Float
    /// SGD only.
    public var momentum: Float
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8

    public init(kind: OptimizerKind, learningRate: Float, weightDecay: Float = 0, momentum: Float = 0.9) {
        self.kind = kind
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.momentum = momentum
    }
}

/// Per-parameter optimizer memory: Adam's first and second moments, SGD's momentum buffer (in
/// `first`; `second` stays empty). `step` counts updates, for Adam's bias correction.
public struct OptimizerState: Sendable, Equatable {
    public var step: Int = 0
    public var first: [[Float]]
    public var second: [[Float]]

    public init(sizes: [Int], kind: OptimizerKind) {
        first = sizes.map { [Float](repeating: 0, count: $0) }
        second = kind == .sgd ? sizes.map { _ in [] } : sizes.map { [Float](repeating: 0, count: $0) }
    }
}

/// Applies one update of `settings` to parameters in place.
public struct Optimizer: Sendable {
    public var settings: OptimizerSettings

    public init(settings: OptimizerSettings) { self.settings = settings }

    /// Starts an update: counts the step (Adam's bias correction uses it).
    public func beginStep(_ state: inout OptimizerState) { state.step += 1 }

    /// Moves parameter `index` against its gradient at `learningRate` (the schedule's value for
    /// this step), after `beginStep`. Adam's elements are split over `threads` (each element is
    /// updated by itself, so the split changes no bit).
    public func apply(_ index: Int, parameter: inout [Float], gradient: [Float], state: inout OptimizerState, learningRate: Float,
                      threads: Int = 1) {
        precondition(parameter.count == gradient.count, "gradient size differs from its parameter")
        switch settings.kind {
        case .adam, .adamw:
            adam(&parameter, gradient, &state.first[index], &state.second[index], step: state.step, learningRate: learningRate,
                 decoupled: settings.kind == .adamw, threads: threads)
        case .sgd:
            sgd(&parameter, gradient, &state.first[index], firstStep: state.step == 1, learningRate: learningRate)
        }
    }

    private func adam(_ p: inout [Float], _ g: [Float], _ m: inout [Float], _ v: inout [Float], step: Int, learningRate lr: Float, decoupled: Bool,
                      threads: Int) {
        let (b1, b2, eps, wd) = (settings.beta1, settings.beta2, settings.epsilon, settings.weightDecay)
        let correction1 = 1 - Float(Foundation.pow(Double(b1), Double(step)))
        let correction2 = 1 - Float(Foundation.pow(Double(b2), Double(step)))
        let stepSize = lr / correction1
        let correction2Root = correction2.squareRoot()
        let parameterCount = p.count
        p.withUnsafeMutableBufferPointer { p in
            m.withUnsafeMutableBufferPointer { m in
                v.withUnsafeMutableBufferPointer { v in
                    g.withUnsafeBufferPointer { g in
                        let (p, m, v, g) = (p.baseAddress!, m.baseAddress!, v.baseAddress!, g.baseAddress!)
                        parallelFor(parameterCount, threads: threads, minimumPerThread: 1 << 15) { range in
                            var j = range.lowerBound
                            if !decoupled && wd == 0 {
                                // Plain Adam four lanes at a time: each lane the scalar loop's
                                // operations in its order (no contraction), so the same bits.
                                typealias V = SIMD4<Float>
                                let (b1v, b2v) = (V(repeating: 1 - b1), V(repeating: b2))
                                let (b2c, rootv, epsv, stepv) = (V(repeating: 1 - b2), V(repeating: correction2Root), V(repeating: eps), V(repeating: stepSize))
                                while j + 4 <= range.upperBound {
                                    let grad = UnsafeRawPointer(g + j).loadUnaligned(as: V.self)
                                    var mv = UnsafeRawPointer(m + j).loadUnaligned(as: V.self)
                                    var vv = UnsafeRawPointer(v + j).loadUnaligned(as: V.self)
                                    var pv = UnsafeRawPointer(p + j).loadUnaligned(as: V.self)
                                    mv += (grad - mv) * b1v
                                    vv = vv * b2v + b2c * grad * grad
                                    let denominator = vv.squareRoot() / rootv + epsv
                                    pv -= stepv * (mv / denominator)
                                    UnsafeMutableRawPointer(m + j).storeBytes(of: mv, as: V.self)
                                    UnsafeMutableRawPointer(v + j).storeBytes(of: vv, as: V.self)
                                    UnsafeMutableRawPointer(p + j).storeBytes(of: pv, as: V.self)
                                    j += 4
                                }
                            }
                            while j < range.upperBound {
                                var grad = g[j]
                                if decoupled { p[j] *= 1 - lr * wd } else if wd != 0 { grad += wd * p[j] }
                                m[j] += (grad - m[j]) * (1 - b1)
                                v[j] = v[j] * b2 + (1 - b2) * grad * grad
                                let denominator = v[j].squareRoot() / correction2Root + eps
                                p[j] -= stepSize * (m[j] / denominator)
                                j += 1
                            }
                        }
                    }
                }
            }
        }
    }

    private func sgd(_ p: inout [Float], _ g: [Float], _ buffer: inout [Float], firstStep: Bool, learningRate lr: Float) {
        let (mu, wd) = (settings.momentum, settings.weightDecay)
        p.withUnsafeMutableBufferPointer { p in
            buffer.withUnsafeMutableBufferPointer { b in
                g.withUnsafeBufferPointer { g in
                    for j in 0..<p.count {
                        var grad = g[j]
                        if wd != 0 { grad += wd * p[j] }
                        if mu != 0 {
                            b[j] = firstStep ? grad : mu * b[j] + grad
                            grad = b[j]
                        }
                        p[j] -= lr * grad
                    }
                }
            }
        }
    }
}
