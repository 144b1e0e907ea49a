import Foundation
import Testing
import TokenAuthorityTesting

// Secrets at rest (docs/storage.md, "Secrets at rest"): a copy of the database files alone reveals
// no token, client secret or password.

extension ReuseModeServer {
    @Suite("Secrets at rest")
    struct SecretsAtRest {
        @Test("The database files hold no token, client secret or password in clear")
        func noSecretInDatabaseFiles() async throws {
            // Given a client, a user, and tokens issued to both
            let server = try sharedServer()
            let deployment = server.deployment
            let client = try await deployment.createClient()
            let password = "clear-text-password-\(UUID().uuidString)"
            let user = try await deployment.createUser(password: password)
            let userToken = try await server.passwordGrant(client, username: user, password: password)
            let clientToken = try await server.clientCredentials(client)
            try #require(userToken.status == 200 && clientToken.status == 200, "\(userToken) \(clientToken)")

            // When someone reads the database file and its write-ahead log
            var bytes = Data()
            for suffix in ["", "-wal", "-shm"] {
                bytes.append(FileManager.default.contents(atPath: deployment.databasePath + suffix) ?? Data())
            }
            let contents = String(decoding: bytes, as: UTF8.self)
            try #require(contents.contains(client.id), "the database files were not read")

            // Then none of the secrets is there
            let secrets = [
                client.secret, password, userToken.string("access_token"), userToken.string("refresh_token"),
                clientToken.string("access_token"),
            ]
            for secret in secrets.compactMap({ $0 }) {
                #expect(!contents.contains(secret), "found \(secret)")
            }
        }
    }
}
