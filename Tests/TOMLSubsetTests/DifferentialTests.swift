import Foundation
import Testing
@testable import TOMLSubset

/// Compares the parser with Python's tomllib (the reference implementation)
/// on generated and mutated documents, through one `python3` run of
/// `tomllib_oracle.py` (see that file for the exchange format).
///
/// Environment: `TOML_DIFF_SEED` and `TOML_DIFF_COUNT` (documents generated
/// before mutation) override the defaults for longer local runs;
/// `TOML_DIFF_VERBOSE` lists the errors we report on another line than tomllib.
@Suite struct DifferentialTests {
    @Test func agreesWithTomllib() throws {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["TOML_DIFF_SEED"].flatMap { UInt64($0) } ?? 0x746F_6D6C
        let count = environment["TOML_DIFF_COUNT"].flatMap { Int($0) } ?? 2000
        var generator = DocumentGenerator(seed: seed)
        var documents = DifferentialTests.handWritten
        for _ in 0..<count {
            let document = generator.document()
            documents.append(document)
            documents.append(generator.mutate(document))
        }

        let verdicts = try runOracle(on: documents)
        try #require(verdicts.count == documents.count, "the oracle answered \(verdicts.count) of \(documents.count) documents")

        var report = Report()
        for (document, verdict) in zip(documents, verdicts) {
            report.check(document, against: verdict)
        }
        print("""
            differential: \(documents.count) documents (seed \(seed)); tomllib accepted \(report.accepted) \
            (\(report.outsideSubset) outside the subset), rejected \(report.rejected); \
            same error line for \(report.sameLine) of \(report.rejected)
            """)
        if environment["TOML_DIFF_VERBOSE"] != nil {
            print("errors on other lines than tomllib's:\n" + report.otherLines.joined(separator: "\n"))
        }
        if !report.disagreements.isEmpty {
            let shown = report.disagreements.prefix(20).joined(separator: "\n")
            Issue.record("\(report.disagreements.count) disagreements with tomllib (first 20):\n\(shown)")
        }
    }

    /// Cases of the table rules that random generation finds only rarely.
    static let handWritten = [
        "a.b = 1\n[a]", "a.b = 1\n[a.c]", "[a.b.c]\n[a]\nb.d = 1", "[a.b.c]\n[a]\nb.d = 1\n[a.b]",
        "[a.b.c]\n[a]\nb.c.d = 1", "[a]\nb.c = 1\n[a.b]", "[a]\nb.c = 1\n[a.b.d]", "[a.b]\n[a]\n[a]",
        "[a.b]\nx = 1\n[a]\nb.y = 1", "a = {x = 1}\n[a]", "a = {x = 1}\n[a.b]", "a = [1]\n[a.b]",
        "a = {}\na.b = 1", "a = 1\na.b = 2", "a = {b.c = 1, b.d = 2}", "a = {b = {c = 1}, b.d = 2}",
        "a = {b.c = 1, b = 2}", "a = {b = 1, b.c = 2}", "[a]\n[b]\n[a.c]", "a.b.c = 1\n[a.b.d]",
        "x.y = 1\nx.z = 2\n[x.w]", "[a]\nb = {}\nb.c = 1", "\"a\" = 1\na = 2", "'a' = 1\n\"a\" = 2",
        "app-K = 1\n\"app-\\u212A\" = 2", "\"\" = 1", "'' = 2", "\"\\u0000\" = 3", "[[x]]\na = 1",
        "[[[x]]", "[&", "a = 1--------- 1", "port = 1979-05-2- 1", "a = [{}]\n[a.b]", "[a]\n[a.b]\n[a]",
        "a.b.c = 1\n[a.b]", "[a.b.c]\n[a.b]\nc.d = 1", "a = [\n1,\n# c\n2,\n]", "a = [,]", "a = {,}",
        "a = {x = 1,}", "a = {\nx = 1}", "a = \"\"\"\"\"\"\"", "a = '''''''''", "\u{FEFF}a = 1",
        "a = 1\r\nb = 2\r", "# c\r", "a = \"\"\"x\\ \r\n y\"\"\"", "[ a . \"b\" . 'c' ]\nd = 1",
    ]

    // MARK: Oracle

    enum Verdict {
        case accepted(flags: Set<String>, value: Any, json: String)
        case rejected(line: Int, message: String)
        case unreadable(String)
    }

    private func runOracle(on documents: [String]) throws -> [Verdict] {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("toml-differential-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var input: [UInt8] = []
        for document in documents {
            input += Array("\(document.utf8.count)\n".utf8) + Array(document.utf8)
        }
        let inputFile = folder.appendingPathComponent("documents.bin")
        let outputFile = folder.appendingPathComponent("verdicts.jsonl")
        let errorFile = folder.appendingPathComponent("stderr.txt")
        try Data(input).write(to: inputFile)
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)

        let oracle = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("tomllib_oracle.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", oracle.path, inputFile.path]
        process.standardOutput = try FileHandle(forWritingTo: outputFile)
        process.standardError = try FileHandle(forWritingTo: errorFile)
        do {
            try process.run()
        } catch {
            Issue.record("cannot start python3 (needed for the tomllib differential test): \(error)")
            throw error
        }
        process.waitUntilExit()
        let stderr = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
        try #require(
            process.terminationStatus == 0,
            "python3 with tomllib (Python 3.11+) is required for the differential test; exit status \(process.terminationStatus): \(stderr)"
        )
        let output = try String(contentsOf: outputFile, encoding: .utf8)
        return output.split(separator: "\n").map { Self.verdict(fromJSONLine: String($0)) }
    }

    private static func verdict(fromJSONLine line: String) -> Verdict {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let ok = object["ok"] as? Bool
        else { return .unreadable(line) }
        if ok, let value = object["value"] {
            return .accepted(flags: Set(object["flags"] as? [String] ?? []), value: value, json: line)
        }
        return .rejected(line: object["line"] as? Int ?? 0, message: object["message"] as? String ?? "")
    }

    // MARK: Comparison

    struct Report {
        var accepted = 0
        var outsideSubset = 0
        var rejected = 0
        var sameLine = 0
        var disagreements: [String] = []
        /// Rejections reported on different lines (tomllib reports some errors
        /// after the value, or at the end of the document).
        var otherLines: [String] = []

        mutating func check(_ document: String, against verdict: Verdict) {
            let ours = Result { () throws(TOMLError) in try TOML.parse(document) }
            switch (verdict, ours) {
            case let (.unreadable(line), _):
                disagree(document, "unreadable oracle output: \(line)")
            case let (.rejected(line, message), .success(table)):
                rejected += 1
                disagree(document, "tomllib rejects it at line \(line) (\(message)) but we accept \(describe(.table(table)))")
            case let (.rejected(line, message), .failure(error)):
                rejected += 1
                if error.line == line {
                    sameLine += 1
                } else {
                    otherLines.append("- \(document.debugDescription)\n  tomllib: \(message)\n  ours:    \(error)")
                }
                if error.line < 1 || error.column < 1 {
                    disagree(document, "our error has no valid position: \(error)")
                }
            case let (.accepted(flags, expected, json), .success(table)):
                accepted += 1
                if !flags.isEmpty { outsideSubset += 1 }
                if !matches(.table(table), expected) {
                    disagree(document, "values differ:\n  tomllib \(json)\n  ours    \(describe(.table(table)))")
                }
            case let (.accepted(flags, _, json), .failure(error)):
                accepted += 1
                if flags.isEmpty {
                    disagree(document, "tomllib accepts it (\(json)) but we reject it: \(error)")
                    return
                }
                outsideSubset += 1
                let explained = (flags.contains("bigint") && error.message.contains("out of range"))
                    || ((flags.contains("datetime") || flags.contains("tablearray")) && error.message.contains("not supported"))
                if !explained {
                    disagree(document, "tomllib accepts it (\(flags.sorted())); our error does not match: \(error)")
                }
            }
        }

        private mutating func disagree(_ document: String, _ problem: String) {
            disagreements.append("- \(document.debugDescription)\n  \(problem)")
        }
    }
}

/// Whether `value` equals a tagged value from the oracle: same types, strings
/// and keys byte for byte, keys in the same order, integers exactly, floats
/// bit for bit (any NaN matching any NaN).
func matches(_ value: TOMLValue, _ node: Any) -> Bool {
    guard let pair = node as? [Any], pair.count == 2, let tag = pair[0] as? String else { return false }
    let payload = pair[1]
    switch (value, tag) {
    case let (.string(text), "string"):
        return (payload as? String).map { text.utf8.elementsEqual($0.utf8) } ?? false
    case let (.integer(number), "integer"):
        return (payload as? String).flatMap { Int64($0) } == number
    case let (.float(number), "float"):
        guard let expected = (payload as? String).flatMap({ Double($0) }) else { return false }
        return number.isNaN ? expected.isNaN : number.bitPattern == expected.bitPattern
    case let (.boolean(flag), "boolean"):
        return (payload as? NSNumber).map { $0.boolValue == flag } ?? false
    case let (.array(elements), "array"):
        guard let items = payload as? [Any], items.count == elements.count else { return false }
        return zip(elements, items).allSatisfy { matches($0, $1) }
    case let (.table(table), "table"):
        guard let entries = payload as? [[Any]], entries.count == table.keys.count else { return false }
        return zip(table.keys, entries).allSatisfy { key, entry in
            guard entry.count == 2, let expectedKey = entry[0] as? String,
                  key.utf8.elementsEqual(expectedKey.utf8), let child = table[key]
            else { return false }
            return matches(child, entry[1])
        }
    default:
        return false
    }
}

/// Our value in the oracle's tagged shape, for reports.
func describe(_ value: TOMLValue) -> String {
    switch value {
    case .string(let text): "[\"string\", \(text.debugDescription)]"
    case .integer(let number): "[\"integer\", \"\(number)\"]"
    case .float(let number): "[\"float\", \"\(number)\"]"
    case .boolean(let flag): "[\"boolean\", \(flag)]"
    case .array(let elements): "[\"array\", [" + elements.map(describe).joined(separator: ", ") + "]]"
    case .table(let table):
        "[\"table\", [" + table.keys.map { "[\($0.debugDescription), \(table[$0].map(describe) ?? "?")]" }.joined(separator: ", ") + "]]"
    }
}
