import Dispatch
import Execution
import NetworkIR

/// `--target latency=F`: a candidate pruned model's forward time on WeakSpot's own engine, so the
/// plan saves real time and not only MACs. The fastest of `runs` timed passes after two warm-ups:
/// on a shared machine other jobs only ever add time, so the minimum is the most repeatable
/// figure, and the binary search over plan lengths needs repeatable ones (measured: a median
/// still jumped 2× between neighbouring plan lengths under load).
public enum LatencyProbe {
    public static func fastest(graph: Graph, input: Tensor, threads: Int, runs: Int = 9) throws -> Double {
        let plan = try ExecutionPlan(graph: graph, options: ExecutionOptions(threads: threads))
        var times: [Double] = []
        for round in 0..<(runs + 2) {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try plan.run(input)
            if round >= 2 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6) }
        }
        return times.min()!
    }
}
