import Testing
@testable import TOMLSubset

/// Parses `text`, recording a test issue (and returning nil) if it fails.
func parsed(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> TOMLTable? {
    do {
        return try TOML.parse(text)
    } catch {
        Issue.record("unexpected error: \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// The value of `key` in a one-key document `key = <valueText>`.
func value(of valueText: String, sourceLocation: SourceLocation = #_sourceLocation) -> TOMLValue? {
    parsed("v = " + valueText, sourceLocation: sourceLocation)?["v"]
}

/// Expects `text` to be rejected at `line`:`column` with a message containing
/// `fragment`, and, when given, the reported key path.
func expectFailure(
    _ text: String,
    line: Int,
    column: Int,
    _ fragment: String,
    key: String?? = .none,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    do {
        let table = try TOML.parse(text)
        Issue.record("expected an error, parsed \(table.keys)", sourceLocation: sourceLocation)
    } catch {
        #expect(error.line == line, "line of \(error)", sourceLocation: sourceLocation)
        #expect(error.column == column, "column of \(error)", sourceLocation: sourceLocation)
        #expect(error.message.contains(fragment), "message of \(error)", sourceLocation: sourceLocation)
        if case .some(let expectedKey) = key {
            #expect(error.key == expectedKey, "key of \(error)", sourceLocation: sourceLocation)
        }
    }
}

extension TOMLTable {
    /// Builds a table from literal pairs, for expectations.
    static func of(_ pairs: KeyValuePairs<String, TOMLValue>) -> TOMLTable {
        var table = TOMLTable()
        for (key, value) in pairs {
            table.append(key: Array(key.utf8), value: value, position: TOMLPosition(line: 0, column: 0))
        }
        return table
    }
}
