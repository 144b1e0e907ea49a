/// Tables under construction, and the rules for defining them
/// (TOML 1.0.0 §Keys, §Table, §Inline Table).
///
/// Tables are kept in an arena and refer to each other by index, so that a
/// header or dotted key can reach any table in O(length of the key).
/// Arrays and inline tables are complete (and immutable) once parsed and are
/// stored as finished ``TOMLValue``s.
///
/// The rules follow Python's `tomllib`, the reference implementation:
/// - a `[header]` may name a table only once, may not name a table created
///   by dotted keys, and may pass through (but not name) such tables;
/// - dotted keys may not pass through a table named by a header (other than
///   the current section's own), nor one created by dotted keys in another
///   section; they may pass through tables a header created implicitly;
/// - nothing may be added to an inline table or an array after it is written.
struct TableBuilder {
    /// How a table in the arena came to exist.
    enum Origin: Equatable {
        /// The document root, or an inline table's own root.
        case root
        /// Created as an intermediate part of a header, e.g. `a` by `[a.b]`.
        case implicit
        /// Named by a header.
        case header
        /// Created, or passed through, by dotted keys in the given section.
        case dotted(section: Int)
    }

    private enum Slot {
        case value(TOMLValue)
        case table(Int)
    }

    private struct Node {
        var origin: Origin
        var depth: Int
        var keys: [[UInt8]] = []
        var slots: [Slot] = []
        var positions: [TOMLPosition] = []
        var lookup: [[UInt8]: Int] = [:]

        mutating func add(_ key: [UInt8], _ slot: Slot, at position: TOMLPosition) {
            lookup[key] = slots.count
            keys.append(key)
            slots.append(slot)
            positions.append(position)
        }
    }

    private var nodes: [Node]

    /// The index of the root table.
    let root = 0

    /// - Parameter rootDepth: Depth of the root in the final value tree (0 for
    ///   the document, the value's depth for an inline table).
    init(rootDepth: Int) {
        nodes = [Node(origin: .root, depth: rootDepth)]
    }

    /// Depth of a table in the final value tree.
    func depth(of table: Int) -> Int {
        nodes.indices.contains(table) ? nodes[table].depth : 0
    }

    /// Defines the table named by a `[header]` and returns its index (§Table).
    mutating func defineHeader(_ parts: [KeyPart], at position: TOMLPosition) throws(TOMLError) -> Int {
        let path = parts.map(\.bytes)
        var current = root
        for (index, part) in parts.enumerated() {
            let isLast = index == parts.count - 1
            guard let existing = child(part, of: current) else {
                let origin: Origin = isLast ? .header : .implicit
                current = try addTable(part, to: current, origin: origin, at: position, path: path)
                continue
            }
            switch existing {
            case .table(let table):
                if isLast {
                    switch nodes[table].origin {
                    case .implicit:
                        nodes[table].origin = .header
                        setPosition(position, of: part, in: current)
                    case .header, .root:
                        throw violation("table is defined twice (a [header] may name a table only once)", at: part, path: path)
                    case .dotted:
                        throw violation("table was already defined by dotted keys and cannot be redefined by a [header]", at: part, path: path)
                    }
                }
                current = table
            case .value(let value):
                throw blocked(by: value, at: part, path: path)
            }
        }
        return current
    }

    /// Defines `parts = value` in the given table (§Keys, "Dotted keys").
    ///
    /// - Parameters:
    ///   - section: Counts `[header]`s seen so far; tables made by dotted keys
    ///     in an earlier section are closed to dotted keys.
    ///   - contextPath: The path of `table`, for error reports.
    mutating func assign(_ value: TOMLValue, to parts: [KeyPart], in table: Int, section: Int, contextPath: [[UInt8]]) throws(TOMLError) {
        let path = contextPath + parts.map(\.bytes)
        var current = table
        for part in parts.dropLast() {
            guard let existing = child(part, of: current) else {
                current = try addTable(part, to: current, origin: .dotted(section: section), at: part.position, path: path)
                continue
            }
            switch existing {
            case .table(let next):
                switch nodes[next].origin {
                case .implicit:
                    nodes[next].origin = .dotted(section: section)
                case .dotted(let other) where other == section:
                    break
                case .dotted:
                    throw violation("table was defined by dotted keys in another section and cannot be extended here", at: part, path: path)
                case .header, .root:
                    throw violation("dotted keys cannot add to a table defined by a [header]", at: part, path: path)
                }
                current = next
            case .value(let value):
                throw blocked(by: value, at: part, path: path)
            }
        }
        guard let last = parts.last else { return }
        if child(last, of: current) != nil {
            throw violation("duplicate key (a key may be defined only once)", at: last, path: path)
        }
        nodes[current].add(last.bytes, .value(value), at: last.position)
    }

    /// Converts the arena, from the root down, into finished tables.
    func build() -> TOMLTable {
        makeTable(root)
    }

    // MARK: Helpers

    private func child(_ part: KeyPart, of table: Int) -> Slot? {
        guard let slot = nodes[table].lookup[part.bytes] else { return nil }
        return nodes[table].slots[slot]
    }

    private mutating func setPosition(_ position: TOMLPosition, of part: KeyPart, in table: Int) {
        if let slot = nodes[table].lookup[part.bytes] {
            nodes[table].positions[slot] = position
        }
    }

    private mutating func addTable(_ part: KeyPart, to parent: Int, origin: Origin, at position: TOMLPosition, path: [[UInt8]]) throws(TOMLError) -> Int {
        let depth = nodes[parent].depth + 1
        guard depth <= Limits.maximumTreeDepth else {
            throw violation("tables are nested more than \(Limits.maximumTreeDepth) levels deep", at: part, path: path)
        }
        nodes.append(Node(origin: origin, depth: depth))
        let table = nodes.count - 1
        nodes[parent].add(part.bytes, .table(table), at: position)
        return table
    }

    /// The error for a key path that runs into a value that is not an open table.
    private func blocked(by value: TOMLValue, at part: KeyPart, path: [[UInt8]]) -> TOMLError {
        switch value {
        case .table:
            violation("cannot add keys to an inline table after it is closed (inline tables are immutable)", at: part, path: path)
        case .array:
            violation("cannot add keys to an array (arrays are immutable; arrays of tables are not supported)", at: part, path: path)
        default:
            violation("key already holds \(value.typeName), not a table", at: part, path: path)
        }
    }

    private func violation(_ message: String, at part: KeyPart, path: [[UInt8]]) -> TOMLError {
        TOMLError(at: part.position, keyPath: path, message: message)
    }

    private func makeTable(_ index: Int) -> TOMLTable {
        var table = TOMLTable()
        guard nodes.indices.contains(index) else { return table }
        let node = nodes[index]
        for (offset, key) in node.keys.enumerated() {
            let value: TOMLValue
            switch node.slots[offset] {
            case .value(let stored): value = stored
            case .table(let child): value = .table(makeTable(child))
            }
            table.append(key: key, value: value, position: node.positions[offset])
        }
        return table
    }
}
