import Foundation
import Linalg
import NetworkIR
import Support
import Synchronization

/// Whole-graph runs that give each thread whole images instead of splitting every step.
///
/// At batch 16 every activation of a layer-by-layer run streams through memory (mobilenet_v2's
/// expansions are 77 MB per tensor), and every step pays a fork and join across the threads.
/// One image run through the whole graph on one thread keeps its activations (≤ 5 MB) in that
/// core's caches. Measured on the 2-core machine, same sitting: mobilenet_v2 one image on one
/// thread 9.6 ms with a second such run beside it, against 6.8 ms per image for batch 16 on two
/// threads layer by layer (docs/performance.md).
///
/// The results are the same bits: every kernel gives bit-identical results for any thread count,
/// and in a batch-separable graph (below) an image's outputs depend on that image only.
extension ExecutionPlan {
    /// Images per thread from which `run(_:)` hands whole images to threads.
    static let imagesPerThreadForImageParallel = 2

    /// True when running each image of a batch on its own gives the rows of the batched run: one
    /// graph input of any batch size; every value (at batch 1 and 2) is [batch, rest...] with the
    /// same rest; and no operator reduces, reorders, moves or mixes along axis 0.
    static func isBatchSeparable(_ graph: Graph) -> Bool {
        guard graph.inputs.count == 1, graph.inputs[0].declaredBatch == nil,
              let one = try? graph.inferShapes(batch: 1), let two = try? graph.inferShapes(batch: 2) else { return false }
        for node in graph.nodes {
            for v in node.outputs {
                guard let a = one[v], let b = two[v], a.count >= 1, b.count == a.count,
                      a[0] == 1, b[0] == 2, a.dropFirst() == b.dropFirst() else { return false }
            }
            for v in node.inputs where graph.constants[v] == nil {
                guard let a = one[v], a.first == 1 else { return false }
            }
            let runtimeOperands = node.inputs.dropFirst().filter { graph.constants[$0] == nil }
            switch node.op {
            case .conv, .batchNormalization, .relu, .leakyRelu, .clip, .sigmoid, .hardSigmoid, .hardSwish, .tanh, .fakeQuantize,
                 .add, .sub, .mul, .div, .maxPool, .averagePool, .globalAveragePool, .reshape, .squeeze, .unsqueeze:
                continue
            case .reduceMean(let axes, _):
                if axes.isEmpty || axes.contains(0) { return false }
            case .flatten(let axis):
                if axis < 1 { return false }
            case .transpose(let permutation):
                if permutation.first != 0 { return false }
            case .concat(let axis):
                if axis == 0 { return false }
            case .pad(let pads, _, _):
                if pads.first != 0 || pads[pads.count / 2] != 0 { return false }
            case .gemm(_, _, let transA, _):
                if transA || !runtimeOperands.isEmpty { return false }
            case .matMul:
                if !runtimeOperands.isEmpty { return false }
            case .softmax(let axis):
                if axis == 0 { return false }
            case .unary, .prelu, .pow, .variadic: continue
            case .softmaxFamily(let s): if s.axis == 0 { return false }
            case .slice(let attributes):
                if attributes.axes.contains(0) { return false }
            case .lrn, .instanceNormalization, .resize, .convTranspose, .expand, .whereSelect, .compare: continue
            case .reduceSum(let axes, _), .reduceMax(let axes, _): if axes.contains(0) { return false }
            case .tile(let repeats): if repeats.first != 1 { return false }
            case .gather: continue
            }
        }
        return true
    }

    /// Runs every image of `input` (N, ...) through the whole graph on one thread, `threads`
    /// threads claiming images in turn, and stacks the outputs along axis 0.
    func runImageParallel(_ input: Tensor, threads: Int) throws(ExecutionError) -> [Tensor] {
        let images = input.shape[0]
        let perImage = input.count / max(images, 1)
        let imageShape = [1] + input.shape.dropFirst()
        let inputValue = graph.inputs[0].value
        let outputs = graph.outputs
        let state = ImageQueue(images: images)
        let claimImages: @Sendable () -> Void = { [self] in
            while true {
                let image = state.next.add(1, ordering: .relaxed).oldValue
                guard image < images, state.failure.withLock({ $0 == nil }) else { return }
                let slice = Tensor(shape: imageShape, storage: Array(input.storage[image * perImage ..< (image + 1) * perImage]))
                do throws(ExecutionError) {
                    let out = try run(known: [inputValue: slice], outputs: outputs, batch: 1, threads: 1)
                    let tensors = outputs.map { out[$0]! }
                    state.results.withLock { $0[image] = tensors }
                } catch {
                    state.failure.withLock { if $0 == nil { $0 = error } }
                    return
                }
            }
        }
        WorkerThreads.run(parts: min(threads, images)) { _ in claimImages() }
        if let error = state.failure.withLock({ $0 }) { throw error }
        let rows = state.results.withLock { $0 }.map { $0! }
        return outputs.indices.map { o in
            let first = rows[0][o]
            var storage: [Float] = []
            storage.reserveCapacity(first.count * images)
            for row in rows { storage.append(contentsOf: row[o].storage) }
            return Tensor(shape: [images] + first.shape.dropFirst(), storage: storage)
        }
    }
}

/// The shared state of one image-parallel run: the next unclaimed image, the outputs by image,
/// the first error.
private final class ImageQueue: Sendable {
    let next = Atomic<Int>(0)
    let results: Locked<[[Tensor]?]>
    let failure = Locked<ExecutionError?>(nil)

    init(images: Int) { results = Locked(Array(repeating: nil, count: images)) }
}
