import Testing
@testable import TOMLSubset

/// A short, bounded fuzz run inside `swift test`: parsing must return or
/// throw (never trap) on random and mutated input, and what it returns must
/// be internally consistent. The long run is `scripts/fuzz-config`.
@Suite struct PropertyTests {
    static let randomInputs = 10_000
    static let mutatedInputs = 10_000

    @Test func parsingNeverTrapsOnRandomOrMutatedInput() {
        var random = SeededRandom(seed: 0xF022)
        var generator = DocumentGenerator(seed: 0xF023)
        var accepted = 0
        for _ in 0..<Self.randomInputs {
            if check(randomText(using: &random)) { accepted += 1 }
        }
        for _ in 0..<Self.mutatedInputs {
            var document = generator.document()
            for _ in 0..<random.int(1...4) {
                document = generator.mutate(document)
            }
            if check(document) { accepted += 1 }
        }
        print("property: \(Self.randomInputs + Self.mutatedInputs) inputs, \(accepted) accepted")
    }

    /// Bytes biased towards TOML syntax, decoded as UTF-8 with replacement
    /// of invalid sequences.
    private func randomText(using random: inout SeededRandom) -> String {
        let syntax = Array("\"'[]{}=.,#\\\n\r\t _-+:0123456789abefinortuxzTZ".utf8)
        var bytes: [UInt8] = []
        for _ in 0..<random.int(0...120) {
            switch random.int(0...9) {
            case 0...6: bytes.append(random.pick(syntax))
            case 7: bytes.append(UInt8(truncatingIfNeeded: random.next()))
            case 8: bytes.append(contentsOf: random.pick([Array("\"\"\"".utf8), Array("'''".utf8), Array("\\u".utf8), Array("[[".utf8), Array("é".utf8), [0xEF, 0xBB, 0xBF]]))
            default: bytes.append(UInt8(truncatingIfNeeded: random.int(0...31)))
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses `text` and checks the invariants; returns whether it parsed.
    @discardableResult
    private func check(_ text: String) -> Bool {
        do {
            let table = try TOML.parse(text)
            checkTable(table, in: text)
            return true
        } catch {
            let lines = text.utf8.lazy.filter { $0 == 0x0A }.count + 1
            #expect(error.line >= 1 && error.line <= lines, "\(error) for \(text.debugDescription)")
            #expect(error.column >= 1, "\(error) for \(text.debugDescription)")
            #expect(!error.message.isEmpty && error.message.count <= 100, "\(error)")
            return false
        }
    }

    private func checkTable(_ table: TOMLTable, in text: String) {
        #expect(Set(table.keys.map { Array($0.utf8) }).count == table.keys.count, "duplicate keys in \(text.debugDescription)")
        for key in table.keys {
            let position = table.position(of: key)
            #expect(table[key] != nil && position != nil && (position?.line ?? 0) >= 1)
            switch table[key] {
            case .table(let child)?: checkTable(child, in: text)
            case .array(let elements)?: checkArray(elements, in: text)
            default: break
            }
        }
    }

    private func checkArray(_ elements: [TOMLValue], in text: String) {
        for element in elements {
            switch element {
            case .table(let child): checkTable(child, in: text)
            case .array(let inner): checkArray(inner, in: text)
            default: break
            }
        }
    }
}
