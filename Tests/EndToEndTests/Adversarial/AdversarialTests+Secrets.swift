import Foundation
import HTTPTypes
import Testing
import TokenAuthorityTesting

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Private files, secrets on stdin, and refresh tokens at introspection.
extension AdversarialTests {
    // MARK: - Private files

    @Test("Under umask 022 the data folder is 0700; the database, its -wal and -shm, the token key and the TLS key are 0600")
    func privateFilesUnderUmask022() async throws {
        // Given a umask that would leave new files world-readable (0644) and folders 0755
        let previous = umask(0o022)
        defer { umask(previous) }
        try await Deployment.withServer(config: withoutAdmin(deploymentConfig(tls: true))) { server in
            // When the server has started and served a token
            let client = try await server.deployment.createClient()
            expectStatus(try await server.clientCredentials(client), 200, "a token request")

            // Then the data folder is 0700 (README, Abuse resistance: private files)
            let data = server.deployment.directory.file("data")
            let folderMode = try permissions(of: data)
            #expect(folderMode == 0o700, "data/ is \(octal(folderMode))")
            // And the database, the token key and the TLS private key are 0600
            for name in ["token-authority.sqlite3", "token-authority.key", "tls/server.key"] {
                let mode = try permissions(of: "\(data)/\(name)")
                #expect(mode == 0o600, "data/\(name) is \(octal(mode))")
            }
            // And so are the database's -wal and -shm, if present
            for name in ["token-authority.sqlite3-wal", "token-authority.sqlite3-shm"]
            where FileManager.default.fileExists(atPath: "\(data)/\(name)") {
                let mode = try permissions(of: "\(data)/\(name)")
                #expect(mode == 0o600, "data/\(name) is \(octal(mode))")
            }
        }
    }

    // MARK: - Secrets on stdin

    @Test("client create --client-secret-stdin takes the secret from stdin; with --client-secret too it fails; token revoke - reads the token from stdin")
    func secretsOnStandardInput() async throws {
        try await Deployment.withServer(config: withoutAdmin(deploymentConfig())) { server in
            // Given a 40-character secret chosen by the operator
            let secret = "Chosen-Secret-" + String(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(26))
            try #require(secret.count == 40)

            // When it is piped into client create --client-secret-stdin
            let created = try await server.run(
                ["client", "create", "--name", uniqueName("stdin"), "--json", "--client-secret-stdin"], stdin: secret + "\n")
            // Then the client is created and the printed secret is the one given
            expectSuccess(created, "client create --client-secret-stdin")
            let client = try JSONDecoder().decode(ClientKeys.self, from: Data(created.stdout.utf8))
            let printedIsChosen = client.secret == secret
            #expect(printedIsChosen, "the printed secret is not the one piped in")
            // And the client gets a token with it
            let issued = try await server.clientCredentials(client)
            expectStatus(issued, 200, "client_credentials with the piped secret")
            let token = try #require(issued.string("access_token"), "no token issued")

            // When --client-secret-stdin and --client-secret are both given
            let clientsBefore = try await server.deployment.count("clients")
            let both = try await server.run(
                ["client", "create", "--name", uniqueName("both"), "--json", "--client-secret-stdin", "--client-secret", secret],
                stdin: secret + "\n")
            // Then it fails, creating nothing and repeating no secret
            expectFailure(both, "client create --client-secret-stdin --client-secret")
            #expect(try await server.deployment.count("clients") == clientsBefore)
            expectNoSecret(in: both.stdout + both.stderr, [secret])

            // When the token is piped into token revoke -
            let inspector = try await server.deployment.createClient(["--introspection"])
            expectIntrospection(try await server.introspection(of: token, as: inspector), active: true, "before revoke -")
            let revoked = try await server.run(["token", "revoke", "-"], stdin: token + "\n")
            // Then it is revoked: introspection says inactive, and the row is REVOKED
            expectSuccess(revoked, "token revoke -")
            let afterwards = try await server.introspection(of: token, as: inspector)
            expectIntrospection(afterwards, active: false, "after revoke -")
            #expect(afterwards.body == #"{"active":false}"#, "\(afterwards)")
            let rows = try await server.deployment.tokens(of: client.id)
            #expect(rows.map(\.state) == ["REVOKED"], "token states: \(rows.map(\.state))")
            expectNoSecret(in: server.standardError, [secret, token])
        }
    }

    // MARK: - Refresh tokens at introspection

    @Test("A refresh token introspects as {\"active\":false} to another introspection client, as active to its own client and to the super admin")
    func refreshTokenIntrospection() async throws {
        try await Deployment.withServer(config: deploymentConfig()) { server in
            // Given a user token with a refresh token, issued by client A; A and B may both introspect
            let password = "Right-Pa55-\(UUID().uuidString.prefix(6))"
            let clientA = try await server.deployment.createClient(["--introspection"])
            let clientB = try await server.deployment.createClient(["--introspection"])
            let user = try await server.deployment.createUser(password: password)
            let login = try await server.passwordGrant(clientA, username: user, password: password)
            expectStatus(login, 200, "the password grant")
            let accessToken = try #require(login.string("access_token"), "no access token")
            let refreshToken = try #require(login.string("refresh_token"), "no refresh token")

            // When client B introspects the refresh token
            let byB = try await server.introspection(of: refreshToken, as: clientB)
            // Then it learns exactly {"active":false} (RFC 7662 §2.2; README, Abuse resistance)
            expectStatus(byB, 200, "B introspects A's refresh token")
            #expect(byB.body == #"{"active":false}"#, "B learns more than inactive: \(byB.members.sorted())")
            // While the access token is active to B, as to any resource server
            expectIntrospection(try await server.introspection(of: accessToken, as: clientB), active: true, "B, the access token")

            // When client A introspects its own refresh token
            let byA = try await server.introspection(of: refreshToken, as: clientA)
            // Then it is active, a refresh_token of A's, for the user
            expectIntrospection(byA, active: true, "A introspects its refresh token")
            #expect(byA.string("token_type") == "refresh_token", "\(byA), token_type \(byA.string("token_type") ?? "absent")")
            #expect(byA.string("client_id") == clientA.id)
            #expect(byA.string("username") == user)

            // When the super admin introspects it
            let byAdmin = try await server.introspection(of: refreshToken, as: ClientKeys(id: "admin", secret: "admin"))
            // Then it is active too
            expectIntrospection(byAdmin, active: true, "the super admin introspects A's refresh token")
            #expect(byAdmin.string("token_type") == "refresh_token")
            expectNoSecret(in: server.standardError, [password, accessToken, refreshToken, clientA.secret, clientB.secret])
        }
    }
}
