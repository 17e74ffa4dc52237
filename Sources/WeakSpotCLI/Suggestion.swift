/// "Did you mean" for mistyped option and subcommand names.
enum Suggestion {
    /// The candidate with the smallest edit distance to `typed`, when that distance is small
    /// enough to be a typo (at most a third of the longer name, and at least 1 allowed), or when
    /// `typed` is a prefix of exactly one candidate. Ties go to the earlier candidate.
    static func closest(to typed: String, among candidates: [String]) -> String? {
        let prefixed = candidates.filter { $0.hasPrefix(typed) && typed.count > 2 }
        if prefixed.count == 1 { return prefixed[0] }
        var best: (name: String, distance: Int)? = nil
        for candidate in candidates {
            let distance = editDistance(typed, candidate)
            let allowed = max(1, max(typed.count, candidate.count) / 3)
            guard distance <= allowed else { continue }
            if let current = best, current.distance <= distance { continue }
            best = (candidate, distance)
        }
        return best?.name
    }

    /// Edit distance counting insertions, deletions, substitutions and swaps of two adjacent
    /// characters as one edit each (optimal string alignment), by characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var twoBack = [Int](repeating: 0, count: y.count + 1)
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                let substitution = previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1)
                current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
                if i > 1 && j > 1 && x[i - 1] == y[j - 2] && x[i - 2] == y[j - 1] {
                    current[j] = min(current[j], twoBack[j - 2] + 1)
                }
            }
            (twoBack, previous, current) = (previous, current, twoBack)
        }
        return previous[y.count]
    }
}
