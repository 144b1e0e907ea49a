/// The known key an unknown one was probably meant to be: a misspelt
/// `renew_access_token_per_requst` would otherwise only be ignored, and the
/// server would start with renewal off.
enum KeySuggestion {
    /// The known key at the smallest edit distance, when that is small for its length
    /// (at most 2 edits, or a quarter of the key's length for long keys).
    static func closest(to unknown: String, among known: Set<String>) -> String? {
        let target = Array(unknown.unicodeScalars.prefix(200))
        let allowed = max(2, target.count / 4)
        var best: (key: String, distance: Int)?
        for candidate in known.sorted() {
            let distance = editDistance(target, Array(candidate.unicodeScalars), limit: allowed)
            if distance <= allowed, distance < (best?.distance ?? .max) { best = (candidate, distance) }
        }
        return best?.key
    }

    /// Levenshtein distance, giving up (returning `limit + 1`) once every path exceeds `limit`.
    static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar], limit: Int) -> Int {
        guard abs(a.count - b.count) <= limit else { return limit + 1 }
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, y) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
            }
            if current.min() ?? 0 > limit { return limit + 1 }
            previous = current
        }
        return previous[b.count]
    }
}
