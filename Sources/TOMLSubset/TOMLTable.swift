/// A TOML table (TOML 1.0.0 §Table, §Inline Table): keys in document order,
/// each with a value and the position where it was defined.
///
/// Keys are compared as exact UTF-8 bytes, never with `String ==` (which
/// uses Unicode canonical equivalence): `"app-K"` and `"app-\u{212A}"`
/// (KELVIN SIGN) are two different keys, as TOML 1.0.0 §Keys requires.
///
/// Equality: two tables are equal when they hold the same set of keys with
/// equal values (see ``TOMLValue`` for how values compare); key order and
/// positions are ignored.
public struct TOMLTable: Sendable, Equatable {
    /// The keys, in the order they were first defined in the document.
    public private(set) var keys: [String] = []
    private var values: [TOMLValue] = []
    private var positions: [TOMLPosition] = []
    private var indexByKey: [[UInt8]: Int] = [:]

    init() {}

    /// The number of keys.
    public var count: Int { keys.count }

    /// The value stored under `key` (byte-exact comparison), if any.
    public subscript(key: String) -> TOMLValue? {
        guard let index = slot(of: key) else { return nil }
        return values[index]
    }

    /// Where `key` was defined: the position of the key's first character
    /// (for a dotted key, of that part), or, for a table made by a `[header]`
    /// (TOML 1.0.0 §Table), of the header's `[`.
    public func position(of key: String) -> TOMLPosition? {
        guard let index = slot(of: key) else { return nil }
        return positions[index]
    }

    private func slot(of key: String) -> Int? {
        guard let index = indexByKey[Array(key.utf8)], values.indices.contains(index) else {
            return nil
        }
        return index
    }

    /// Adds a key that is not yet present; returns false (and changes
    /// nothing) when it is.
    @discardableResult
    mutating func append(key: [UInt8], value: TOMLValue, position: TOMLPosition) -> Bool {
        guard indexByKey[key] == nil else { return false }
        indexByKey[key] = values.count
        keys.append(String(decoding: key, as: UTF8.self))
        values.append(value)
        positions.append(position)
        return true
    }

    public static func == (lhs: TOMLTable, rhs: TOMLTable) -> Bool {
        guard lhs.values.count == rhs.values.count else { return false }
        for (key, leftIndex) in lhs.indexByKey {
            guard let rightIndex = rhs.indexByKey[key],
                  lhs.values.indices.contains(leftIndex),
                  rhs.values.indices.contains(rightIndex),
                  lhs.values[leftIndex] == rhs.values[rightIndex]
            else { return false }
        }
        return true
    }
}
