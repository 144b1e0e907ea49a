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

extension Substring.UTF8View {
    /// The same, on a value's bytes: for the checks that run on every request.
    var trimmingOptionalWhitespace: Substring.UTF8View {
        let isWhitespace: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        guard let first = firstIndex(where: { !isWhitespace($0) }), let last = lastIndex(where: { !isWhitespace($0) })
        else { return self[endIndex...] }
        return self[first...last]
    }
}
