import Foundation
import Testing
import TokenAuthorityTesting

/// README, "Scaling out", moving over: `token-authority db copy --to postgresql://…` moves a
/// SQLite deployment into an empty PostgreSQL database, and what was handed out keeps working.
@Suite("Moving a SQLite deployment to PostgreSQL with db copy", .enabled(if: TestPostgres.enabled))
struct DatabaseCopyTests {
    @Test("Tokens issued on SQLite introspect active and are reused after db copy; a refresh token still rotates; a JWT still verifies")
    func tokensSurviveTheMove() async throws {
        try await TestPostgres.withDatabase { url in
            try await Deployment.with(config: deploymentConfig()) { deployment in
                // Given a SQLite deployment that handed out an app token, a user's pair and a JWT
                try await deployment.migrate()
                let client = try await deployment.createClient(["--introspection"])
                let jwtClient = try await deployment.createClient(["--token-type", "jwt"])
                let user = try await deployment.createUser(password: "Pa55-word")
                let before = try await deployment.withServer { server in
                    (
                        app: try await server.clientCredentials(client),
                        pair: try await server.passwordGrant(client, username: user, password: "Pa55-word"),
                        jwt: try await server.clientCredentials(jwtClient)
                    )
                }
                let appToken = try #require(before.app.accessToken)
                let userToken = try #require(before.pair.accessToken)
                let refreshToken = try #require(before.pair.refreshToken)
                let jwt = try #require(before.jwt.accessToken)
                let sqliteCounts = try await deployment.sqlite(Self.countsSQL)

                // When the operator copies the database and points the deployment at PostgreSQL
                let copy = try await deployment.run(["db", "copy", "--to", url])
                #expect(copy.status == 0, "\(copy)")
                #expect(copy.stdout.contains("copied") && copy.stdout.contains("2 clients"), "\(copy.stdout)")
                #expect(try await TestPostgres.psql(url, Self.countsSQL) == sqliteCounts)
                try deploymentConfig(database: TestPostgres.databaseSection(url))
                    .write(toFile: deployment.configPath, atomically: true, encoding: .utf8)

                try await deployment.withServer { server in
                    // Then every token issued before the move is active, and the same request reuses it
                    for token in [appToken, userToken, jwt] {
                        let answer = try await server.introspection(of: token, as: client)
                        #expect(answer["active"]?.bool == true, "\(answer)")
                    }
                    let again = try await server.clientCredentials(client)
                    #expect(again.status == 200 && again.accessToken == appToken, "\(again)")
                    let pairAgain = try await server.passwordGrant(client, username: user, password: "Pa55-word")
                    #expect(pairAgain.accessToken == userToken, "\(pairAgain)")
                    // And the refresh token rotates, its new tokens taking ids after the copied ones
                    let refreshed = try await server.refreshTokenGrant(client, refreshToken: refreshToken)
                    #expect(refreshed.status == 200 && refreshed.accessToken != userToken, "\(refreshed)")
                    let rows = try await TestPostgres.psql(url, "SELECT count(*) FROM access_tokens")
                    #expect(rows == "4")
                }
            }
        }
    }

    @Test("db copy into a database that holds rows is refused, naming them, and writes nothing")
    func refusesANonEmptyTarget() async throws {
        try await TestPostgres.withDatabase { url in
            try await Deployment.with(config: deploymentConfig()) { deployment in
                // Given a SQLite deployment copied once
                try await deployment.migrate()
                _ = try await deployment.createClient()
                let first = try await deployment.run(["db", "copy", "--to", url])
                try #require(first.status == 0, "\(first)")
                _ = try await deployment.createClient()
                // When it is copied again into the same database
                let second = try await deployment.run(["db", "copy", "--to", url])
                // Then the copy stops with one line naming the table that holds rows, and the target is unchanged
                #expect(second.status != 0)
                #expect(second.stderr.contains("not empty") && second.stderr.contains("clients"), "\(second.stderr)")
                #expect(try await TestPostgres.psql(url, "SELECT count(*) FROM clients") == "1")
            }
        }
    }

    @Test("db copy to a URL carrying a password is refused without echoing it; a wrong port names the database")
    func badTargets() async throws {
        try await Deployment.with(config: deploymentConfig()) { deployment in
            try await deployment.migrate()
            let withPassword = try await deployment.run(["db", "copy", "--to", "postgresql://app:s3cret-pw@127.0.0.1:5432/tokens"])
            #expect(withPassword.status != 0)
            #expect(!withPassword.stdout.contains("s3cret-pw") && !withPassword.stderr.contains("s3cret-pw"))
            #expect(withPassword.stderr.contains("--to"), "\(withPassword.stderr)")

            let port = try freeLoopbackPort()
            let unreachable = try await deployment.run(["db", "copy", "--to", "postgresql://app@127.0.0.1:\(port)/tokens"])
            #expect(unreachable.status != 0)
            #expect(unreachable.stderr.contains("postgresql://app@127.0.0.1:\(port)/tokens"), "\(unreachable.stderr)")
            #expect(unreachable.stderr.split(separator: "\n").count == 1, "\(unreachable.stderr)")
        }
    }

    /// The rows of every copied table, one line per table.
    static let countsSQL = """
        SELECT 'clients', count(*) FROM clients UNION ALL SELECT 'users', count(*) FROM users
        UNION ALL SELECT 'signing_keys', count(*) FROM signing_keys
        UNION ALL SELECT 'refresh_tokens', count(*) FROM refresh_tokens
        UNION ALL SELECT 'access_tokens', count(*) FROM access_tokens
        """
}

extension Deployment {
    /// `token-authority migrate`: creates the SQLite database, as an operator does before the first command.
    func migrate() async throws {
        let result = try await run(["migrate"])
        try #require(result.status == 0, "migrate failed: \(result)")
    }
}
