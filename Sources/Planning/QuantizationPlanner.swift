import Foundation
import NetworkIR
import Quantization

/// What `plan --quantize` must reach: an average of bits per quantizable weight, or a size in
/// bytes of every parameter as stored (`QuantizationBudget`).
public enum QuantizationTarget: Sendable, Equatable, CustomStringConvertible {
    case bits(Double)
    case size(Int)

    public var description: String {
        switch self {
        case .bits(let b): "bits=\(b)"
        case .size(let n): "size=\(n)"
        }
    }
}

/// What a bit assignment costs: bits per quantizable weight on average (float layers count 32),
/// and the bytes of every parameter as stored — quantized weights packed at B bits, each with a
/// float32 scale and an 8-bit zero point per scale; everything else float32.
public struct QuantizationBudget: Sendable {
    public let layers: [QuantizationSensitivity.Layer]
    /// Every parameter of the model (weights, biases, normalisation), counted as float32 before.
    public let totalParams: Int

    public init(layers: [QuantizationSensitivity.Layer], totalParams: Int) {
        self.layers = layers
        self.totalParams = totalParams
    }

    public func averageBits(_ bits: [String: Int]) -> Double {
        let weights = layers.reduce(0) { $0 + $1.params }
        let sum = layers.reduce(0.0) { $0 + Double($1.params) * Double(bits[$1.name] ?? 32) }
        return weights > 0 ? sum / Double(weights) : 32
    }

    public func bytes(_ bits: [String: Int]) -> Int {
        var total = totalParams * 4
        for l in layers {
            // 32 bits: the float rung, stored as float32 like a layer the plan leaves alone.
            guard let b = bits[l.name], b < 32 else { continue }
            total += (l.params * b + 7) / 8 + l.scales * 5 - l.params * 4
        }
        return total
    }

    /// The bytes the same parameters take in the QDQ file `weakspot quantize` writes for a model
    /// of `opset`: every width up to 8 bits stored as int8 (`IntegerStorage`), so below 8 bits the
    /// file is larger than `bytes` counts.
    public func storedBytes(_ bits: [String: Int], opset: Int) -> Int {
        var total = totalParams * 4
        for l in layers {
            guard let b = bits[l.name], b < 32 else { continue }
            let storage = IntegerStorage.weight(bits: b, opset: opset)
            total += l.params * storage.bytes + l.scales * (4 + (storage.hasZeroPoint ? storage.bytes : 0)) - l.params * 4
        }
        return total
    }

    func meets(_ target: QuantizationTarget, _ bits: [String: Int]) -> Bool {
        switch target {
        case .bits(let f): averageBits(bits) <= f + 1e-9
        case .size(let n): bytes(bits) <= n
        }
    }
}

/// One greedy move: a layer lowered from one width to the next.
public struct QuantizationStep: Sendable, Equatable {
    public var layer: String
    public var from: Int
    public var to: Int
}

/// The planner's answer: bits per layer, its costs, and predicted and measured damage.
public struct QuantizationPlanResult: Sendable {
    public var bits: [String: Int]
    public var steps: [QuantizationStep]
    public var bitsBefore: Double
    public var bitsAfter: Double
    public var bytesBefore: Int
    public var bytesAfter: Int
    public var figures: PlanFigures
    /// What the QDQ file stores (`QuantizationBudget.storedBytes`); set by the caller, who knows the opset.
    public var storedBytesAfter: Int? = nil
}

/// Bits per layer under a target, the pruning planner's discipline with widths instead of
/// channels: every layer starts at the most bits measured; the move that costs the least damage
/// per bit saved (damage increase ÷ weights × bits dropped, from the sensitivity table) is taken
/// until the target holds; the whole assignment is then measured on the inputs as one quantized
/// model, and when a limit is exceeded the plan backs off to the longest prefix of its moves that
/// stays within the limits (`PlanLimits.longestPrefix`), as the pruning planner shortens its
/// prefix of groups.
public struct QuantizationPlanner {
    public var table: QuantizationSensitivity
    public var budget: QuantizationBudget
    public var target: QuantizationTarget?
    public var limits: PlanLimits
    /// Measures an assignment on the inputs (nil without data).
    public var measure: (([String: Int]) throws -> (means: [String: Double], classAccuracy: [Int: Double]?))?
    public var baselineClassAccuracy: [Int: Double]?

    public init(table: QuantizationSensitivity, budget: QuantizationBudget, target: QuantizationTarget?, limits: PlanLimits,
                measure: (([String: Int]) throws -> (means: [String: Double], classAccuracy: [Int: Double]?))?) {
        self.table = table
        self.budget = budget
        self.target = target
        self.limits = limits
        self.measure = measure
    }

    /// The greedy moves from the start until the target holds (all moves when there is no
    /// target: limits alone then decide how far to go).
    public func moves() throws(PlanError) -> (start: [String: Int], steps: [QuantizationStep]) {
        let ladder = table.ladder
        var bits = Dictionary(uniqueKeysWithValues: table.layers.map { ($0.name, ladder[0]) })
        let start = bits
        var steps: [QuantizationStep] = []
        while target.map({ !budget.meets($0, bits) }) ?? true {
            var best: (cost: Double, saved: Int, step: QuantizationStep)? = nil
            for l in table.layers {
                let current = bits[l.name]!
                guard let rung = ladder.firstIndex(of: current), rung + 1 < ladder.count else { continue }
                let next = ladder[rung + 1]
                let increase = max(0, (l.damage[next] ?? .infinity) - (l.damage[current] ?? 0))
                let saved = l.params * (current - next)
                guard saved > 0 else { continue }
                let cost = increase / Double(saved)
                if best == nil || cost < best!.cost || (cost == best!.cost && saved > best!.saved) {
                    best = (cost, saved, QuantizationStep(layer: l.name, from: current, to: next))
                }
            }
            guard let move = best else {
                if let target {
                    throw PlanError("--target \(target) is out of reach: with every measured layer at \(ladder.last!) bits the model averages \(String(format: "%.3f", budget.averageBits(bits))) bits per weight and takes \(budget.bytes(bits)) bytes; measure fewer bits (quantize:…,2) or more layers")
                }
                break
            }
            bits[move.step.layer] = move.step.to
            steps.append(move.step)
        }
        if let target { giveBack(target, bits: &bits, steps: &steps) }
        return (start, steps)
    }

    /// The greedy's last move can overshoot the target by far (a large layer, or a float-rung
    /// layer dropping 24 bits at once), leaving moves taken before it no longer needed. While the
    /// target still holds with a layer's last move undone, the undo that saves the most damage is
    /// made (ties: the later move); moves that cost nothing stay.
    func giveBack(_ target: QuantizationTarget, bits: inout [String: Int], steps: inout [QuantizationStep]) {
        let byName = Dictionary(uniqueKeysWithValues: table.layers.map { ($0.name, $0) })
        while true {
            var best: (gain: Double, index: Int)? = nil
            var last: [String: Int] = [:]
            for (i, s) in steps.enumerated() { last[s.layer] = i }
            for i in last.values.sorted() {
                let s = steps[i], l = byName[s.layer]!
                var probe = bits
                probe[s.layer] = s.from
                guard budget.meets(target, probe) else { continue }
                let gain = (l.damage[s.to] ?? .infinity) - (l.damage[s.from] ?? 0)
                if gain > 0 && (best == nil || gain >= best!.gain) { best = (gain, i) }
            }
            guard let undo = best else { return }
            bits[steps[undo.index].layer] = steps[undo.index].from
            steps.remove(at: undo.index)
        }
    }

    static func apply(_ steps: ArraySlice<QuantizationStep>, to start: [String: Int]) -> [String: Int] {
        var bits = start
        for s in steps { bits[s.layer] = s.to }
        return bits
    }

    public func plan(progress: (String) -> Void = { _ in }) throws -> QuantizationPlanResult {
        let (start, steps) = try moves()
        var k = steps.count
        var targetMet = true
        var measured: [String: Double]? = nil, classAfter: [Int: Double]? = nil
        var limitsMet = true, backedOff = false
        if let measure {
            var result = try measure(Self.apply(steps[...], to: start))
            progress("measured \(k) moves: \(limits.metricsText(result.means))")
            if !limits.isEmpty && !limits.holds(result.means) {
                backedOff = target != nil
                k = try limits.longestPrefix(below: k) { mid in
                    let probe = try measure(Self.apply(steps.prefix(mid), to: start))
                    progress("limits: \(mid) moves → \(limits.metricsText(probe.means))")
                    return probe.means
                }
                result = try measure(Self.apply(steps.prefix(k), to: start))
                limitsMet = limits.holds(result.means)
                if target != nil { targetMet = false }
            }
            measured = result.means
            classAfter = result.classAccuracy
        } else if !limits.isEmpty {
            throw PlanError("limits (--max-kl, --max-top1, --max-acc-drop) need --data to measure the plan")
        }
        let bits = Self.apply(steps.prefix(k), to: start)
        var predicted: [String: Double]? = [:]
        for l in table.layers {
            guard let m = l.measured[bits[l.name]!], !m.isEmpty else { predicted = nil; break }
            for (name, v) in m { predicted?[name, default: 0] += v }
        }
        if let t = predicted?["top1"] { predicted?["top1"] = min(t, 1) }
        let float = [String: Int]()
        return QuantizationPlanResult(
            bits: bits, steps: Array(steps.prefix(k)), bitsBefore: budget.averageBits(float), bitsAfter: budget.averageBits(bits),
            bytesBefore: budget.bytes(float), bytesAfter: budget.bytes(bits),
            figures: PlanFigures(predicted: predicted, measured: measured, classAccuracyBefore: baselineClassAccuracy, classAccuracyAfter: classAfter,
                                 targetMet: targetMet, limitsMet: limitsMet, backedOff: backedOff, evaluations: 0,
                                 latencyBeforeMs: nil, latencyAfterMs: nil))
    }
}
