import PostgresNIO
import TokenAuthority

extension PostgresStore {
    func client(id: String) async throws -> Client? {
        try await rows(
            """
            SELECT client_id, name, secret_sha256, grant_types, scopes, token_format, may_introspect, created_at,
                   redirect_uris, post_logout_redirect_uris, token_endpoint_auth_method
            FROM clients WHERE client_id = \(id)
            """
        ).first.map(Self.client)
    }

    func clientsVersion() async throws -> Int64 {
        try await rows("SELECT version FROM client_changes WHERE id = 1").first?.decode(Int64.self) ?? 0
    }

    func createClient(_ client: Client) async throws {
        do {
            try await rows(
                """
                INSERT INTO clients (client_id, name, secret_sha256, grant_types, scopes, token_format,
                                     may_introspect, created_at, redirect_uris, post_logout_redirect_uris,
                                     token_endpoint_auth_method)
                VALUES (\(client.clientID), \(client.name), \(bytes(client.secretDigest)),
                        \(client.grantTypes.map(\.rawValue).joined(separator: " ")),
                        \(client.scopes.map { $0.sorted().joined(separator: " ") }),
                        \(client.tokenFormat.rawValue), \(client.mayIntrospect), \(client.createdAt),
                        \(client.redirectURIs.joined(separator: " ")), \(client.postLogoutRedirectURIs.joined(separator: " ")),
                        \(client.authenticationMethod))
                """)
        } catch where PostgresFailure.isUniqueViolation(error) {
            throw StoreError.alreadyExists("client \(client.clientID)")
        }
    }

    func clients() async throws -> [Client] {
        // COLLATE "C": byte order, as SQLite sorts text, whatever the database's locale.
        try await rows(
            """
            SELECT client_id, name, secret_sha256, grant_types, scopes, token_format, may_introspect, created_at,
                   redirect_uris, post_logout_redirect_uris, token_endpoint_auth_method
            FROM clients ORDER BY created_at, client_id COLLATE "C"
            """
        ).map(Self.client)
    }

    func deleteClient(id: String) async throws -> Bool {
        // Tokens go with the client through ON DELETE CASCADE, durably.
        try await transaction { connection, logger in
            !(try await connection.rows("DELETE FROM clients WHERE client_id = \(id) RETURNING 1", logger: logger))
                .isEmpty
        }
    }

    private static func client(_ row: PostgresRow) throws -> Client {
        let (clientID, name, secret, grantNames, scopes, tokenFormat, mayIntrospect, createdAt, redirectURIs, logoutURIs, method) =
            try row.decode((String, String, ByteBuffer, String, String?, String, Bool, Int64, String, String, String).self)
        return Client(
            clientID: clientID, name: name, secretDigest: secret.byteArray,
            grantTypes: grantNames.split(separator: " ").compactMap { GrantType(rawValue: String($0)) },
            scopes: scopes.map { Set($0.split(separator: " ").map(String.init)) },
            tokenFormat: AccessTokenFormat(rawValue: tokenFormat) ?? .opaque, mayIntrospect: mayIntrospect,
            createdAt: createdAt, redirectURIs: redirectURIs.split(separator: " ").map(String.init),
            postLogoutRedirectURIs: logoutURIs.split(separator: " ").map(String.init), isPublic: method == "none")
    }
}
