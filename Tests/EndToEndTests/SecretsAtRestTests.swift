import Foundation
import Testing
import TokenAuthorityTesting

// Secrets at rest (docs/storage.md, "Secrets at rest"): a copy of the database files alone reveals
// no token, client secret or password.

extension ReuseModeServer {
    @Suite("Secrets at rest")
    struct SecretsAtRest {
        @Test("The database (SQLite's files, a dump of PostgreSQL's) holds no token, client secret or password in clear")
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

            // When someone reads the database file and its write-ahead log, or dumps the PostgreSQL database
            let contents = try await Self.everyByte(of: deployment)
            try #require(contents.contains(client.id), "the database was not read")

            // Then none of the secrets is there
            let secrets = [
                client.secret, password, userToken.string("access_token"), userToken.string("refresh_token"),
                clientToken.string("access_token"),
            ]
            for secret in secrets.compactMap({ $0 }) {
                // (pg_dump writes bytea as hex: a secret stored as bytes would show that way)
                let hex = secret.utf8.map { String(format: "%02x", $0) }.joined()
                #expect(!contents.contains(secret) && !contents.contains(hex), "found a secret of \(secret.count) characters")
            }
        }

        /// The SQLite file with its -wal and -shm, or `pg_dump`'s text of the whole PostgreSQL database.
        static func everyByte(of deployment: Deployment) async throws -> String {
            if let url = deployment.postgresURL {
                let dump = try await deployment.runProgram(URL(fileURLWithPath: "/usr/bin/pg_dump"), ["--data-only", url])
                try #require(dump.status == 0, "pg_dump failed: \(dump.stderr)")
                return dump.stdout
            }
            var bytes = Data()
            for suffix in ["", "-wal", "-shm"] {
                bytes.append(FileManager.default.contents(atPath: deployment.databasePath + suffix) ?? Data())
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}
