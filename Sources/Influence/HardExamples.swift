/// `--hard-examples K`: the K inputs on which the model is least sure — the smallest gap between
/// its two largest logits — where damage shows first (as NNCF ranks quantisation damage).
public enum HardExamples {
    /// Indices of the K inputs with the smallest top-1 margin, in input order (ties → lower index).
    public static func select(logits: [Float], count: Int, k: Int) -> [Int] {
        var selector = Selector(k: k)
        selector.add(logits: logits, count: count)
        return selector.chosen
    }

    /// The same choice made over batches as they are run: only the K best (margin, index) pairs
    /// are kept, so selecting among any number of inputs needs memory for K of them and one batch.
    public struct Selector: Sendable {
        public let k: Int
        /// The inputs seen so far.
        public private(set) var seen = 0
        /// The kept pairs, sorted by (margin, index) ascending; at most k.
        private var kept: [(margin: Float, index: Int)] = []

        public init(k: Int) { self.k = k }

        /// One batch of `count` logit rows (inputs numbered on from the previous batches).
        public mutating func add(logits: [Float], count: Int) {
            let classes = logits.count / max(count, 1)
            for n in 0..<count {
                defer { seen += 1 }
                // With fewer than two classes there is no margin: the first K inputs are taken.
                var margin: Float = 0
                if classes >= 2 {
                    var first = -Float.infinity, second = -Float.infinity
                    for v in logits[n * classes ..< (n + 1) * classes] {
                        if v > first { second = first; first = v } else if v > second { second = v }
                    }
                    margin = first - second
                }
                // A NaN margin (non-finite logits) says nothing about certainty: it sorts last.
                if margin.isNaN { margin = .infinity }
                insert((margin, seen))
            }
        }

        /// Indices arrive in increasing order, so an equal margin ranks after those kept (ties →
        /// lower index, as a full sort by (margin, index) would give).
        private mutating func insert(_ entry: (margin: Float, index: Int)) {
            func before(_ a: (margin: Float, index: Int), _ b: (margin: Float, index: Int)) -> Bool {
                a.margin != b.margin ? a.margin < b.margin : a.index < b.index
            }
            if kept.count == k, let last = kept.last, !before(entry, last) { return }
            var low = 0, high = kept.count
            while low < high {
                let mid = (low + high) / 2
                if before(kept[mid], entry) { low = mid + 1 } else { high = mid }
            }
            kept.insert(entry, at: low)
            if kept.count > k { kept.removeLast() }
        }

        /// The chosen indices in input order.
        public var chosen: [Int] { kept.map(\.index).sorted() }
    }
}
