import Foundation
import NetworkIR

/// Wall time of one plan step, for per-layer latency tables (`weakspot bench --layers`) and for
/// the planner's latency target.
public struct StepTiming: Sendable {
    /// The node names the step covers (several when fused).
    public var nodes: [String]
    public var operators: [String]
    public var milliseconds: Double
}

extension ExecutionPlan {
    /// Runs the whole graph once on `input`, timing each step.
    public func timeSteps(_ input: Tensor) throws(ExecutionError) -> [StepTiming] {
        var env = [Tensor?](repeating: nil, count: graph.values.count)
        env[graph.inputs[0].value] = input
        var timings: [StepTiming] = []
        let batch = input.shape.first ?? 1
        for step in steps {
            var ins: [Tensor] = []
            for v in step.inputs {
                guard let t = env[v] ?? graph.constants[v] else { throw ExecutionError("value '\(graph.values[v].name)' is missing") }
                ins.append(t)
            }
            let start = DispatchTime.now().uptimeNanoseconds
            env[step.output] = try step.kernel.run(ins, batch: batch, threads: options.threads)
            let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            timings.append(StepTiming(nodes: step.nodes.map { graph.nodes[$0].name }, operators: step.nodes.map { graph.nodes[$0].op.onnxName }, milliseconds: ms))
        }
        return timings
    }
}
