/// `--hard-examples K`: the K inputs on which the model is least sure — the smallest gap between
/// its two largest logits — where damage shows first (as NNCF ranks quantisation damage).
public enum HardExamples {
    /// Indices of the K inputs with the smallest top-1 margin, in input order (ties → lower index).
    public static func select(logits: [Float], count: Int, k: Int) -> [Int] {
        let classes = logits.count / max(count, 1)
        guard classes >= 2 else { return Array(0..<min(k, count)) }
        var margins: [(index: Int, margin: Float)] = []
        for n in 0..<count {
            var first = -Float.infinity, second = -Float.infinity
            for v in logits[n * classes ..< (n + 1) * classes] {
                if v > first { second = first; first = v } else if v > second { second = v }
            }
            margins.append((n, first - second))
        }
        return margins.sorted { $0.margin != $1.margin ? $0.margin < $1.margin : $0.index < $1.index }.prefix(k).map(\.index).sorted()
    }
}
