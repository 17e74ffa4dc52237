import NetworkIR
import Support

/// Inputs that can be read from the start more than once, a batch at a time: what `--hard-examples`
/// (a selecting pass, then a reading pass) and `--adaptive` (the first slice's size depends on the
/// count) need, without holding the data set in memory. Each `open` starts a fresh pass.
public struct ReplayableInputs {
    /// Inputs in total when known before reading; nil when only reading can tell (bad files skipped).
    public var count: Int?
    /// A fresh pass in batches of the given size: yields (NCHW input, labels) until nil.
    public var open: (_ batchSize: Int) throws -> () throws -> (Tensor, [Int]?)?

    public init(count: Int?, open: @escaping (_ batchSize: Int) throws -> () throws -> (Tensor, [Int]?)?) {
        self.count = count
        self.open = open
    }

    /// Inputs already in memory (library callers, tests): each pass slices them one batch at a time.
    public init(_ input: Tensor, labels: [Int]?) {
        let count = input.shape.first ?? 0
        let itemShape = Array(input.shape.dropFirst()), per = itemShape.reduce(1, *)
        self.init(count: count) { size in
            var start = 0
            return {
                guard start < count else { return nil }
                let n = min(size, count - start)
                defer { start += n }
                return (Tensor(shape: [n] + itemShape, storage: Array(input.storage[start * per ..< (start + n) * per])),
                        labels.map { Array($0[start ..< start + n]) })
            }
        }
    }
}

/// Re-cuts a stream of batches into batches of the given sizes, keeping only the inputs whose
/// position in the stream is in `keep` (all when nil). At most one batch read and one batch being
/// filled are alive, so memory does not grow with the data set.
final class BatchCutter {
    private let source: () throws -> (Tensor, [Int]?)?
    private let keep: Set<Int>?
    private var sizes: [Int]
    private var nextSize = 0
    /// Position in the source stream of the next input read.
    private var position = 0
    private var itemShape: [Int] = []
    private var values: [Float] = []
    private var labels: [Int]? = nil
    private var buffered = 0
    private var exhausted = false

    /// `sizes`: the batches wanted, in order; after the last, batches of `sizes.last` (the rest).
    init(source: @escaping () throws -> (Tensor, [Int]?)?, keep: Set<Int>?, sizes: [Int]) {
        precondition(!sizes.isEmpty && sizes.allSatisfy { $0 > 0 }, "batch sizes must be positive")
        self.source = source
        self.keep = keep
        self.sizes = sizes
    }

    /// The next batch, or nil when the source is done (the last batch may be smaller).
    func next() throws -> (Tensor, [Int]?)? {
        let want = sizes[min(nextSize, sizes.count - 1)]
        while buffered < want && !exhausted {
            guard let (x, y) = try source() else { exhausted = true; break }
            let n = x.shape.first ?? 0
            let per = n > 0 ? x.count / n : 0
            itemShape = Array(x.shape.dropFirst())
            for i in 0..<n {
                defer { position += 1 }
                if let keep, !keep.contains(position) { continue }
                values.append(contentsOf: x.storage[i * per ..< (i + 1) * per])
                if let y {
                    if labels == nil { labels = [] }
                    labels!.append(y[i])
                }
                buffered += 1
            }
        }
        guard buffered > 0 else { return nil }
        let n = min(want, buffered), per = values.count / buffered
        let batch = (Tensor(shape: [n] + itemShape, storage: Array(values[0 ..< n * per])), labels.map { Array($0[0 ..< n]) })
        values.removeFirst(n * per)
        labels?.removeFirst(n)
        buffered -= n
        nextSize += 1
        return batch
    }
}
