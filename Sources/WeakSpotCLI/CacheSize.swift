import NetworkIR

/// What the profiler's activation cache costs per input: every node output of one sample, float32.
/// An upper bound — values fused away inside a kernel are not kept — so the bound errs on the
/// safe side.
enum CacheSize {
    static func bytesPerInput(_ graph: Graph) throws -> Int {
        let shapes = try graph.inferShapes(batch: 1)
        var total = 0
        for node in graph.nodes {
            for v in node.outputs { total += (shapes[v]?.reduce(1, *) ?? 0) * 4 }
        }
        return total
    }
}
