import Foundation
import HTTPTypes
import Testing
import TokenAuthorityTesting

// Secrets never reach the logs (README, "Logs"; docs/token-endpoint.md, "Errors"): a run at
// LOG_LEVEL=trace through every endpoint and every failure, then a search of
// everything the server and the CLI printed for every secret that went by.

@Suite("Secrets in logs")
struct SecretsInLogsTests {
    @Test("At LOG_LEVEL=trace no client secret, password, token or JWT signature appears in any output")
    func noSecretInAnyOutput() async throws {
        // Given a super admin password of its own and a limit of 5 failed client authentications a minute
        let adminPassword = "admin-pw-\(UUID().uuidString)"
        let config = deploymentConfig(
            extra: """

                [security.source_limits]
                failed_client_authentications_per_minute = 5
                """
        ).replacingOccurrences(of: "password = \"admin\"", with: "password = \"\(adminPassword)\"")
        try #require(config.contains(adminPassword), "the test config did not take")

        try await Deployment.with(config: config) { deployment in
            var secrets = SecretList()
            secrets.add("super admin password", adminPassword)
            var cliOutputs: [(command: String, result: CommandResult)] = []

            try await deployment.withServer(environment: ["LOG_LEVEL": "trace"]) { server in
                // And clients of every kind (their creation prints their secret once, by design)
                let client = try await deployment.createClient()
                let chosenSecret = "chosen-secret-\(UUID().uuidString)"
                let postClient = try await deployment.createClient(["--client-secret", chosenSecret])
                let jwtClient = try await deployment.createClient(["--token-type", "jwt"])
                let introspector = try await deployment.createClient(["--introspection"])
                for keys in [client, postClient, jwtClient, introspector] {
                    secrets.add("client secret", keys.secret)
                    secrets.add("HTTP Basic credentials", Form.basic(id: keys.id, secret: keys.secret))
                }
                // And a user created with its password on stdin
                let username = uniqueName("user")
                let password = "user-pw-\(UUID().uuidString)"
                secrets.add("user password", password)
                let userCreate = try await deployment.run(
                    ["user", "create", "--password-stdin", "--", username], stdin: password + "\n")
                try #require(userCreate.status == 0, "user create failed: exit \(userCreate.status)")
                cliOutputs.append(("user create", userCreate))

                // When the user logs in (HTTP Basic), the super admin too (client_secret_post), and a wrong password is tried
                let login = try await server.passwordGrant(client, username: username, password: password)
                secrets.addTokens(of: login)
                let adminLogin = try await server.postToken(
                    Form.encode([
                        ("grant_type", "password"), ("username", "admin"), ("password", adminPassword),
                        ("client_id", postClient.id), ("client_secret", postClient.secret),
                    ]))
                secrets.addTokens(of: adminLogin)
                let wrongPassword = "wrong-pw-\(UUID().uuidString)"
                secrets.add("attempted password", wrongPassword)
                let failedLogin = try await server.passwordGrant(client, username: username, password: wrongPassword)
                // And clients get their own tokens, opaque and JWT, by HTTP Basic and in the body
                let clientToken = try await server.clientCredentials(client)
                secrets.addTokens(of: clientToken)
                let postToken = try await server.postToken(
                    Form.encode([
                        ("grant_type", "client_credentials"), ("client_id", postClient.id),
                        ("client_secret", postClient.secret),
                    ]))
                secrets.addTokens(of: postToken)
                let firstJWT = try await server.clientCredentials(jwtClient)
                let secondJWT = try await server.clientCredentials(jwtClient)
                secrets.addTokens(of: firstJWT)
                secrets.addTokens(of: secondJWT)
                // And the user's refresh token is used, then replayed
                let rotated = try #require(login.string("refresh_token"), "\(login)")
                let refreshed = try await server.refreshTokenGrant(client, refreshToken: rotated)
                secrets.addTokens(of: refreshed)
                let replay = try await server.refreshTokenGrant(client, refreshToken: rotated)
                // And tokens are introspected by the super admin and by an introspection client
                // (the replay revoked the refreshed tokens: the super admin's token is introspected)
                let userToken = try #require(adminLogin.string("access_token"), "\(adminLogin)")
                let byAdmin = try await server.request(
                    .post, "/oauth2/introspect",
                    headers: [
                        .contentType: "application/x-www-form-urlencoded",
                        .authorization: Form.basic(id: "admin", secret: adminPassword),
                    ],
                    body: Array(Form.encode([("token", userToken)]).utf8))
                secrets.add("HTTP Basic credentials", Form.basic(id: "admin", secret: adminPassword))
                let jwt = try #require(secondJWT.string("access_token"), "\(secondJWT)")
                let byClient = try await server.introspection(of: jwt, as: introspector)
                let ofRefresh = try await server.introspection(
                    of: try #require(refreshed.string("refresh_token")), as: introspector)
                // And tokens are revoked: the client's own, then another client's (refused)
                let revoked = try await server.revocationReply(
                    for: try #require(clientToken.string("access_token")), by: client)
                let notYours = try await server.revocationReply(
                    for: try #require(postToken.string("access_token")), by: client)
                // And malformed requests carry secrets: a repeated password, two client authentications,
                // a wrong content type, a body over the limit, a secret in the path and in the query
                let repeated = try await server.postToken(
                    "grant_type=password&username=\(username)&password=\(Form.component(password))&password=\(Form.component(password))",
                    client: client)
                let twoMethods = try await server.postToken(
                    Form.encode([
                        ("grant_type", "client_credentials"), ("client_id", client.id), ("client_secret", client.secret),
                    ]), client: client)
                let wrongType = try await server.postToken(
                    Form.encode([("grant_type", "password"), ("username", username), ("password", password)]),
                    client: client, contentType: "text/plain")
                let oversized = try await server.postToken(
                    Form.encode([("grant_type", "password"), ("username", username), ("password", password)])
                        + "&scope=" + String(repeating: "a", count: 70_000), client: client)
                let inPath = try await server.request(.get, "/oauth2/\(Form.component(client.secret))")
                let inQuery = try await server.postToken(
                    "grant_type=client_credentials", client: nil, headers: [:],
                    contentType: "application/x-www-form-urlencoded", query: "client_id=\(client.id)&client_secret=\(client.secret)")
                // And an operator uses the CLI on the tokens
                let tokenRevoke = try await deployment.run(["token", "revoke", jwt])
                cliOutputs.append(("token revoke", tokenRevoke))
                cliOutputs.append(("token list", try await deployment.run(["token", "list", "--json"])))
                cliOutputs.append(("client list", try await deployment.run(["client", "list", "--json"])))
                cliOutputs.append(("client show", try await deployment.run(["client", "show", "--json", "--", client.id])))
                // And wrong client secrets are tried until the source is refused
                var refusals: [Int] = []
                for _ in 0..<7 {
                    let attempt = "wrong-secret-\(UUID().uuidString)"
                    secrets.add("attempted client secret", attempt)
                    secrets.add("HTTP Basic credentials", Form.basic(id: client.id, secret: attempt))
                    refusals.append(try await server.clientCredentials(ClientKeys(id: client.id, secret: attempt)).status)
                }
                let refusedWithSecret = try await server.passwordGrant(client, username: username, password: password)

                // (the run went as planned)
                let outcomes: [(String, HTTPReply, Int)] = [
                    ("login", login, 200), ("admin login", adminLogin, 200), ("wrong password", failedLogin, 400),
                    ("client token", clientToken, 200), ("client_secret_post token", postToken, 200),
                    ("first JWT", firstJWT, 200), ("second JWT", secondJWT, 200), ("refresh", refreshed, 200),
                    ("replay", replay, 400), ("introspection by the admin", byAdmin, 200),
                    ("introspection by a client", byClient, 200), ("introspection of a refresh token", ofRefresh, 200),
                    ("revocation", revoked, 200), ("revocation of another client's token", notYours, 400),
                    ("repeated password", repeated, 400), ("two client authentications", twoMethods, 400),
                    ("wrong content type", wrongType, 400), ("oversized body", oversized, 413),
                    ("secret in the path", inPath, 404), ("secret in the query", inQuery, 401),
                    ("refused source", refusedWithSecret, 429),
                ]
                for (name, reply, status) in outcomes {
                    #expect(reply.status == status, "\(name): \(reply)")
                }
                #expect(byAdmin["active"]?.bool == true, "the admin's introspection")
                #expect(byClient["active"]?.bool == true, "the client's introspection")
                // (the unauthenticated request with its secret in the query was the first failure)
                #expect(refusals == [401, 401, 401, 401, 429, 429, 429], "statuses \(refusals)")
                #expect(tokenRevoke.status == 0, "token revoke: exit \(tokenRevoke.status)")
                #expect(secrets.count(of: "JWT signature") == 2)
                #expect(secrets.count(of: "refresh token") == 3)
                #expect(secrets.count(of: "access token") == 7)

                // Then neither the server's output so far nor the CLI's holds any of the secrets
                let serverOutput = log(of: server)
                #expect(serverOutput.contains("msg=request"), "the server logged no request")
                #expect(serverOutput.contains("level=trace"), "the server did not log at trace level")
                for (kind, found) in secrets.found(in: serverOutput) {
                    Issue.record("a \(kind) is in the server's output (\(found) of them)")
                }
                for (command, result) in cliOutputs {
                    for (kind, found) in secrets.found(in: result.stdout + result.stderr) {
                        Issue.record("a \(kind) is in the output of `\(command)` (\(found) of them)")
                    }
                }
                // And the database files hold none of them either (hashed or sealed:
                // docs/storage.md, "Secrets at rest")
                var files = Data()
                for suffix in ["", "-wal", "-shm"] {
                    files.append(FileManager.default.contents(atPath: deployment.databasePath + suffix) ?? Data())
                }
                let database = String(decoding: files, as: UTF8.self)
                #expect(database.contains(client.id), "the database files were not read")
                for (kind, found) in secrets.found(in: database, except: ["HTTP Basic credentials"]) {
                    Issue.record("a \(kind) is in the database files (\(found) of them)")
                }

                // And after a graceful stop, the whole log still holds none
                #expect(try await server.stop() == 0)
                for (kind, found) in secrets.found(in: log(of: server)) {
                    Issue.record("a \(kind) is in the server's output after it stopped (\(found) of them)")
                }
            }
        }
    }
}

/// The secrets seen during a test, by kind, so that a failure can say which kind
/// leaked without printing it.
private struct SecretList {
    private var entries: [(kind: String, value: String)] = []

    mutating func add(_ kind: String, _ value: String) {
        precondition(value.count >= 16, "a secret this short could match by chance")
        entries.append((kind, value))
    }

    /// The access and refresh tokens of a token response; a JWT's signature too.
    mutating func addTokens(of reply: HTTPReply) {
        if let access = reply.string("access_token") {
            add("access token", access)
            let parts = access.split(separator: ".", omittingEmptySubsequences: false)
            if parts.count == 3 { add("JWT signature", String(parts[2])) }
        }
        if let refresh = reply.string("refresh_token") { add("refresh token", refresh) }
    }

    func count(of kind: String) -> Int { entries.filter { $0.kind == kind }.count }

    /// The kinds of secret found in `text`, with how many of each.
    func found(in text: String, except excluded: Set<String> = []) -> [(kind: String, count: Int)] {
        var counts: [String: Int] = [:]
        for (kind, value) in entries where !excluded.contains(kind) && text.contains(value) {
            counts[kind, default: 0] += 1
        }
        return counts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

extension ServerProcess {
    /// `POST /oauth2/token?QUERY` with `body`: parameters a careless client put in the URL.
    fileprivate func postToken(
        _ body: String, client: ClientKeys?, headers: HTTPFields, contentType: String, query: String
    ) async throws -> HTTPReply {
        var headers = headers
        headers[.contentType] = contentType
        if let client { headers[.authorization] = Form.basic(id: client.id, secret: client.secret) }
        return try await request(.post, "/oauth2/token?\(query)", headers: headers, body: Array(body.utf8))
    }
}
