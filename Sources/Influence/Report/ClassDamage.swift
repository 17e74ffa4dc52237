import Support

/// An item can be harmless on average and ruin one class: with labels, each item records the
/// class whose accuracy it lowers most.
public enum ClassDamage {
    /// Worst class for one item from its per-input `acc` values (baseline correct − perturbed
    /// correct, in input order) and the labels of those inputs: {class, accDrop, n}; ties go to the
    /// lower class. Nil without labels or values.
    public static func itemObject(accValues: [Double], labels: [Int]?) -> JSONValue? {
        guard let labels, !accValues.isEmpty, labels.count >= accValues.count else { return nil }
        var sums: [Int: (drop: Double, n: Int)] = [:]
        for (i, v) in accValues.enumerated() {
            let entry = sums[labels[i]] ?? (0, 0)
            sums[labels[i]] = (entry.drop + v, entry.n + 1)
        }
        var best: (label: Int, drop: Double, n: Int)? = nil
        for label in sums.keys.sorted() {
            let (drop, n) = sums[label]!
            let mean = drop / Double(n)
            if best == nil || mean > best!.drop { best = (label, mean, n) }
        }
        guard let best else { return nil }
        return .object(["class": .int(best.label), "accDrop": .float(Float(best.drop)), "n": .int(best.n)])
    }

    /// Items no worse than `harmless` on average accuracy whose worst class loses at least
    /// `ruined` (the report's `summary.classDamaging`).
    static let harmless = 0.01
    static let ruined = 0.25

    static func isDamaging(_ item: JSONValue) -> Bool {
        let average: Double = item["metrics"]?["acc"]?.doubleValue ?? 1
        let worst: Double = item["classDamage"]?["accDrop"]?.doubleValue ?? 0
        return average <= harmless && worst >= ruined
    }
}
