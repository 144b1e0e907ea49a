extension Substring {
    /// Without the optional whitespace (spaces and tabs) around a field value or
    /// list element (RFC 9110 §5.6.3).
    var trimmingOptionalWhitespace: Substring {
        let isWhitespace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isWhitespace($0) }), let last = lastIndex(where: { !isWhitespace($0) })
        else { return self[endIndex...] }
        return self[first...last]
    }
}
