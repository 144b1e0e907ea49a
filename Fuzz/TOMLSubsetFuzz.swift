// libFuzzer entry point for the TOMLSubset parser.
//
// Compiled together with Sources/TOMLSubset/*.swift (same module, so no
// import) by scripts/fuzz-config. Any trap in the parser, or a broken
// invariant checked below, makes libFuzzer save the input and stop.

/// Feeds one input, decoded as UTF-8 with replacement, to `TOML.parse`.
@_cdecl("LLVMFuzzerTestOneInput")
public func tomlSubsetFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let text = String(decoding: bytes, as: UTF8.self)
    do {
        let table = try TOML.parse(text)
        checkFuzzedTable(table)
    } catch {
        if error.line < 1 || error.column < 1 || error.message.isEmpty || error.message.count > 100 {
            fatalError("malformed error: \(error)")
        }
        _ = error.description
    }
    return 0
}

/// Every listed key must be found again, with a position.
private func checkFuzzedTable(_ table: TOMLTable) {
    for key in table.keys {
        guard let value = table[key], let position = table.position(of: key), position.line >= 1 else {
            fatalError("key listed but not found")
        }
        _ = value.typeName
        if case .table(let child) = value {
            checkFuzzedTable(child)
        }
    }
}
