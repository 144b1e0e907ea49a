import Foundation
import Testing
@testable import TOMLSubset

/// The fuzz seed corpus (`Fuzz/corpus/`) must hold valid documents only.
@Suite struct CorpusTests {
    @Test func fuzzCorpusDocumentsAreValid() throws {
        let corpus = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/corpus")
        let files = try FileManager.default.contentsOfDirectory(at: corpus, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "toml" }
        #expect(files.count >= 5)
        for file in files {
            let text = String(decoding: try Data(contentsOf: file), as: UTF8.self)
            #expect(throws: Never.self, "\(file.lastPathComponent)") { try TOML.parse(text) }
        }
    }

    @Test func deploymentExampleValues() throws {
        let corpus = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/corpus/deployment.toml")
        let table = try TOML.parse(String(decoding: try Data(contentsOf: corpus), as: UTF8.self))
        #expect(table.keys == ["server", "tokens", "clients", "database"])
        guard case .table(let server)? = table["server"],
              case .table(let clients)? = table["clients"],
              case .table(let web)? = clients["web"],
              case .table(let database)? = table["database"]
        else {
            Issue.record("missing tables")
            return
        }
        #expect(server["port"] == .integer(8443))
        #expect(table.position(of: "server") == TOMLPosition(line: 2, column: 1))
        #expect(server.position(of: "tls") == TOMLPosition(line: 8, column: 1))
        #expect(web["secret"] == .string("c2VjcmV0\u{0}with-nul"))
        #expect(database["url"] == .string("postgres://tokens@db.internal:5432/tokens"))
    }
}
