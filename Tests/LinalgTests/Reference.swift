import Linalg

/// The kernels' accuracy contract: |got − reference| ≤ dotProductTolerance × (Σ|aᵢ·bᵢ| + |bias| +
/// |residual|), the magnitude of the terms summed, plus a tiny absolute floor for exact zeros.
let dotProductTolerance: Double = 1e-5
let absoluteFloor: Double = 1e-30

/// Deterministic pseudo-random values in [-1, 1).
struct SeededValues {
    private var state: UInt64

    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    mutating func next() -> Float {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return Float(state >> 40) / Float(1 << 23) - 1
    }

    mutating func array(_ count: Int) -> [Float] { (0..<max(count, 0)).map { _ in next() } }
}

/// A reference value with the magnitude of its terms, computed in Double by naive loops.
struct ReferenceValue {
    var value: Double
    var magnitude: Double
}

func applyReference(_ activation: Activation, _ v: Double) -> Double {
    switch activation {
    case .none: return v
    case .relu: return max(v, 0)
    case let .clip(lo, hi): return min(max(v, Double(lo)), Double(hi))
    }
}

/// Returns nil when every element meets the contract, else the first outlier and the count.
func contractMismatch(_ actual: [Float], _ reference: [ReferenceValue]) -> String? {
    guard actual.count == reference.count else { return "count: got \(actual.count), expected \(reference.count)" }
    var outliers = 0
    var first: String?
    for (i, (a, r)) in zip(actual, reference).enumerated() {
        let bound = dotProductTolerance * r.magnitude + absoluteFloor
        if !(abs(Double(a) - r.value) <= bound) {
            outliers += 1
            if first == nil { first = "first at \(i): got \(a), expected \(r.value) (bound \(bound))" }
        }
    }
    return first.map { "\(outliers) of \(actual.count) outside the dot-product tolerance; \($0)" }
}

/// Naive C = op(A)·op(B) (+ C) + bias + residual, then activation.
func referenceGEMM(m: Int, n: Int, k: Int, a: [Float], transposeA: Bool, b: [Float], transposeB: Bool,
                   initialC: [Float]?, rowBias: [Float]?, columnBias: [Float]?, residual: [Float]?,
                   activation: Activation) -> [ReferenceValue] {
    var out: [ReferenceValue] = []
    out.reserveCapacity(m * n)
    for i in 0..<m {
        for j in 0..<n {
            var sum = 0.0, magnitude = 0.0
            for p in 0..<k {
                let av = Double(transposeA ? a[p * m + i] : a[i * k + p])
                let bv = Double(transposeB ? b[j * k + p] : b[p * n + j])
                sum += av * bv
                magnitude += abs(av * bv)
            }
            for extra in [initialC?[i * n + j], rowBias?[i], columnBias?[j], residual?[i * n + j]] {
                if let e = extra { sum += Double(e); magnitude += abs(Double(e)) }
            }
            out.append(ReferenceValue(value: applyReference(activation, sum), magnitude: magnitude))
        }
    }
    return out
}

/// Naive direct convolution, NCHW input, OIHW weights, zero padding.
func referenceConv(_ g: ConvGeometry, batch: Int, height: Int, width: Int, input: [Float], weights: [Float],
                   bias: [Float]?, residual: [Float]?, activation: Activation) throws -> [ReferenceValue] {
    let (oh, ow) = try g.outputSize(inputHeight: height, inputWidth: width)
    let cinPerGroup = g.inputChannels / g.groups, coutPerGroup = g.outputChannels / g.groups
    var out: [ReferenceValue] = []
    for n in 0..<batch {
        for oc in 0..<g.outputChannels {
            let group = oc / coutPerGroup
            for y in 0..<oh {
                for x in 0..<ow {
                    var sum = 0.0, magnitude = 0.0
                    for icg in 0..<cinPerGroup {
                        let ic = group * cinPerGroup + icg
                        for kh in 0..<g.kernelHeight {
                            let iy = y * g.strideHeight - g.padTop + kh * g.dilationHeight
                            guard iy >= 0, iy < height else { continue }
                            for kw in 0..<g.kernelWidth {
                                let ix = x * g.strideWidth - g.padLeft + kw * g.dilationWidth
                                guard ix >= 0, ix < width else { continue }
                                let v = Double(input[((n * g.inputChannels + ic) * height + iy) * width + ix])
                                let w = Double(weights[((oc * cinPerGroup + icg) * g.kernelHeight + kh) * g.kernelWidth + kw])
                                sum += v * w
                                magnitude += abs(v * w)
                            }
                        }
                    }
                    let at = ((n * g.outputChannels + oc) * oh + y) * ow + x
                    for extra in [bias?[oc], residual?[at]] {
                        if let e = extra { sum += Double(e); magnitude += abs(Double(e)) }
                    }
                    out.append(ReferenceValue(value: applyReference(activation, sum), magnitude: magnitude))
                }
            }
        }
    }
    return out
}
