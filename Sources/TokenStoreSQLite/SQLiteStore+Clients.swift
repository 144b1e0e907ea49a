import Foundation
import GRDB
import TokenAuthority

extension SQLiteStore {
    func client(id: String) async throws -> Client? {
        try await lookup { db in
            // GRDB binds text up to its first NUL: an id that goes on past one must not find
            // the client it begins with, as identifiers compare as bytes.
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM clients WHERE client_id = ?"), arguments: [id])
                .map(Self.client).flatMap { $0.clientID.sameBytes(as: id) ? $0 : nil }
        }
    }

    func createClient(_ client: Client) async throws {
        do {
            try await write { db in
                try db.execute(
                    sql: """
                        INSERT INTO clients (client_id, name, secret_sha256, grant_types, scopes, token_format,
                                             may_introspect, created_at, redirect_uris, post_logout_redirect_uris,
                                             token_endpoint_auth_method)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        client.clientID, client.name, Data(client.secretDigest),
                        client.grantTypes.map(\.rawValue).joined(separator: " "),
                        client.scopes.map { $0.sorted().joined(separator: " ") },
                        client.tokenFormat.rawValue, client.mayIntrospect, client.createdAt,
                        client.redirectURIs.joined(separator: " "), client.postLogoutRedirectURIs.joined(separator: " "),
                        client.authenticationMethod,
                    ])
            }
        } catch let error as DatabaseError where error.isUniqueViolation {
            throw StoreError.alreadyExists("client \(client.clientID)")
        }
    }

    func clients() async throws -> [Client] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM clients ORDER BY created_at, client_id").map(Self.client)
        }
    }

    func deleteClient(id: String) async throws -> Bool {
        // Tokens go with the client through ON DELETE CASCADE.
        try await write { db in
            try db.execute(sql: "DELETE FROM clients WHERE client_id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    func clientsVersion() async throws -> Int64 {
        try await lookup { db in
            try Int64.fetchOne(db.cachedStatement(sql: "SELECT version FROM client_changes WHERE id = 1")) ?? 0
        }
    }

    private static func client(_ row: Row) -> Client {
        let grantNames: String = row["grant_types"]
        let scopes: String? = row["scopes"]
        return Client(
            clientID: row["client_id"],
            name: row["name"],
            secretDigest: [UInt8](row["secret_sha256"] as Data),
            grantTypes: grantNames.split(separator: " ").compactMap { GrantType(rawValue: String($0)) },
            scopes: scopes.map { Set($0.split(separator: " ").map(String.init)) },
            tokenFormat: AccessTokenFormat(rawValue: row["token_format"]) ?? .opaque,
            mayIntrospect: row["may_introspect"],
            createdAt: row["created_at"],
            redirectURIs: words(row["redirect_uris"]),
            postLogoutRedirectURIs: words(row["post_logout_redirect_uris"]),
            isPublic: row["token_endpoint_auth_method"] == "none")
    }
}

/// A space-separated column as its words (redirect URIs hold no space, RFC 3986).
func words(_ text: String) -> [String] {
    text.split(separator: " ").map(String.init)
}
