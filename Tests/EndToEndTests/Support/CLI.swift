import Foundation
import Testing
import TokenAuthorityTesting

/// A client's credentials as `client create --json` prints them.
struct ClientKeys: Sendable, Decodable {
    var id: String
    var secret: String

    enum CodingKeys: String, CodingKey {
        case id = "client_id"
        case secret = "client_secret"
    }
}

/// One row of `token list --json`.
struct TokenRow: Sendable, Decodable, Equatable {
    var id: Int64
    var client_id: String
    var subject_type: String
    var subject: String
    var scope: String
    var state: String
    var grant_type: String
    var issued_at: String
    var expires_at: String
    var refresh_token_id: Int64?
}

/// A name no other test uses.
func uniqueName(_ prefix: String) -> String {
    "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
}

/// `'text'` for SQL, quotes doubled.
func sqlQuoted(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
}

extension Deployment {
    /// `client create --name NAME --json ARGUMENTS`: a new client's credentials.
    func createClient(_ arguments: [String] = []) async throws -> ClientKeys {
        let result = try await run(["client", "create", "--name", uniqueName("client"), "--json"] + arguments)
        try #require(result.status == 0, "client create failed: \(result)")
        return try JSONDecoder().decode(ClientKeys.self, from: Data(result.stdout.utf8))
    }

    /// `user create NAME --password-stdin`; returns the name.
    @discardableResult
    func createUser(_ username: String = uniqueName("user"), password: String) async throws -> String {
        let result = try await run(["user", "create", "--password-stdin", "--", username], stdin: password + "\n")
        try #require(result.status == 0, "user create failed: \(result)")
        return username
    }

    /// `token list --json` for the tokens of one client (`--client=ID`, as generated ids may begin with `-`).
    func tokens(of clientID: String, _ filters: [String] = []) async throws -> [TokenRow] {
        try await tokens(["--client=\(clientID)"] + filters)
    }

    /// `token list --json FILTERS`.
    func tokens(_ filters: [String] = []) async throws -> [TokenRow] {
        let result = try await run(["token", "list", "--json"] + filters)
        try #require(result.status == 0, "token list failed: \(result)")
        return try JSONDecoder().decode([TokenRow].self, from: Data(result.stdout.utf8))
    }

    /// `SELECT count(*) FROM table WHERE condition`, on the deployment's database.
    func count(_ table: String, where condition: String = "true") async throws -> Int {
        let text = try await query("SELECT count(*) FROM \(table) WHERE \(condition)")
        return try #require(Int(text), "the database answered \(text)")
    }

    /// The number of ACTIVE access-token rows of `clientID`.
    func activeTokens(of clientID: String) async throws -> Int {
        try await count("access_tokens", where: "client_id = \(sqlQuoted(clientID)) AND state = 'ACTIVE'")
    }
}
