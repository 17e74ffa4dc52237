import DataInput
import Dispatch
import Execution
import Foundation
import NetworkIR

/// `weakspot bench MODEL --layers`: the time of every plan step (a node or a fused chain), next to
/// the whole `plan.run` measured in the same rounds, so that per-layer comparisons with a peer's
/// profiler and the gap between the whole run and the sum of its steps come from one sitting.
enum BenchLayers {
    struct Row {
        var nodes: [String]
        var operators: [String]
        var medianMs: Double
    }

    struct Result {
        var batch: Int
        var rows: [Row]
        /// Median of the whole `plan.run`, timed in the same rounds as the steps.
        var runMedianMs: Double
        /// Median over rounds of the steps' summed time.
        var stepsMedianMs: Double
    }

    /// Alternates one `plan.run` and one `timeSteps` per round, after two warm-up rounds.
    static func measure(_ model: LoadedModel, batch: Int, threads: Int, repetitions: Int) throws -> Result {
        guard let input = model.input else { throw CLIError.input("\(model.path): graph: expected an input") }
        let plan = try model.plan(threads: threads)
        let shape = input.shape(batch: batch)
        let tensor = Tensor(shape: shape, storage: SyntheticNormalGenerator(seed: 0).elements(from: 0, count: shape.reduce(1, *)))
        var perStep: [[Double]] = []
        var runs: [Double] = [], sums: [Double] = []
        var names: [StepTiming] = []
        for round in 0..<(repetitions + 2) {
            let start = DispatchTime.now().uptimeNanoseconds
            let timings: [StepTiming]
            do {
                _ = try plan.run(tensor)
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                timings = try plan.timeSteps(tensor)
                if round >= 2 { runs.append(elapsed) }
            } catch {
                throw CLIError.input("\(model.path): \(error)")
            }
            guard round >= 2 else { continue }
            if perStep.isEmpty { perStep = Array(repeating: [], count: timings.count); names = timings }
            for (i, t) in timings.enumerated() { perStep[i].append(t.milliseconds) }
            sums.append(timings.reduce(0) { $0 + $1.milliseconds })
        }
        let rows = zip(names, perStep).map { Row(nodes: $0.nodes, operators: $0.operators, medianMs: median($1)) }
        return Result(batch: shape.first ?? batch, rows: rows, runMedianMs: median(runs), stepsMedianMs: median(sums))
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }
}
