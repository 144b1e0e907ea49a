import Foundation
import HTTPTypes
import Testing
import TokenAuthorityTesting

/// What a newcomer meets in their first hour with the executable (README, "Commands"
/// and "Configuration"), and the HTTP answers third-party clients rely on.
@Suite("First hour: the command line and HTTP details")
struct FirstHourTests {
    @Test("--version prints the release")
    func version() async throws {
        try await Deployment.with(config: deploymentConfig()) { deployment in
            let result = try await deployment.runProgram(ServerProcess.executable, ["--version"])
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil, "\(result.stdout)")
        }
    }

    @Test("A command other than serve and migrate, where no database is, fails naming the path and creates nothing")
    func noDatabaseIsAnError() async throws {
        try await Deployment.with(config: deploymentConfig()) { deployment in
            // Given a folder whose configuration names a database that does not exist yet
            for arguments in [["client", "list"], ["user", "list"], ["token", "list"], ["keys", "list"], ["token", "purge"]] {
                // When an operator runs the command there
                let result = try await deployment.run(arguments)

                // Then it fails, naming the missing file and the configuration it read, and makes no database
                #expect(result.status != 0, "\(arguments): \(result)")
                #expect(result.stderr.contains("no database at data/token-authority.sqlite3"), "\(arguments): \(result.stderr)")
                #expect(result.stderr.contains("--config \(deployment.configPath)"), "\(arguments): \(result.stderr)")
                #expect(!FileManager.default.fileExists(atPath: deployment.databasePath), "\(arguments) created a database")
            }
            // And once migrate has made it, the same command works, and token list names its columns
            #expect(try await deployment.run(["migrate"]).status == 0)
            let tokens = try await deployment.run(["token", "list"])
            #expect(tokens.status == 0, "\(tokens)")
            #expect(tokens.stdout == "id\tstate\tclient_id\tsubject\tscope\texpires_at\n", "\(tokens.stdout)")
        }
    }

    @Test("A misspelt key is a warning that suggests the known key; with --strict-config it stops start-up")
    func misspeltKey() async throws {
        let config = deploymentConfig().replacingOccurrences(
            of: "renew_access_token_per_request", with: "renew_access_token_per_requst")
        try await Deployment.with(config: config) { deployment in
            // When migrate reads it
            let migrated = try await deployment.run(["migrate"])
            // Then it warns, naming the key, its line, and the key it probably meant
            #expect(migrated.status == 0, "\(migrated)")
            #expect(
                migrated.stderr.contains(
                    "unknown key oauth.token_renewal.renew_access_token_per_requst (ignored); "
                        + "did you mean oauth.token_renewal.renew_access_token_per_request?"), "\(migrated.stderr)")
            // And with --strict-config, serve refuses to start
            let strict = try await deployment.run(["serve", "--strict-config"], timeout: .seconds(30))
            #expect(strict.status != 0, "\(strict)")
            #expect(!strict.stdout.contains("listening on"))
            #expect(strict.stderr.contains("renew_access_token_per_requst"), "\(strict.stderr)")
            #expect(strict.stderr.contains("--strict-config: unknown keys are errors"), "\(strict.stderr)")
        }
    }

    @Test("A method a path does not serve is 405 with Allow; HEAD is served where GET is")
    func methodNotAllowed() async throws {
        try await Deployment.withServer(config: deploymentConfig()) { server in
            for (method, path, allow) in [
                (HTTPRequest.Method.get, "/oauth2/token", "POST"), (.put, "/oauth2/introspect", "POST"),
                (.delete, "/health", "GET, HEAD"), (.post, "/oauth2/jwks", "GET, HEAD"),
            ] {
                let reply = try await server.request(method, path)
                #expect(reply.status == 405, "\(method) \(path): \(reply)")
                #expect(reply.header("Allow") == allow, "\(method) \(path)")
                #expect(reply.string("error") == "invalid_request", "\(method) \(path)")
            }
            let head = try await server.request(.head, "/health")
            #expect(head.status == 200 && head.body.isEmpty, "\(head)")
            #expect(try await server.request(.get, "/no-such-path").status == 404)
        }
    }

    @Test("Header fields over max_header_size are 431 with a JSON body, and the connection closes")
    func headersTooLarge() async throws {
        try await Deployment.withServer(config: deploymentConfig()) { server in
            let request = rawRequest("GET", "/health", headers: [("X-Padding", String(repeating: "a", count: 20_000))])
            let reply = try await RawConnection.exchange(port: server.port, request)
            #expect(reply?.status == 431, "\(reply?.description ?? "no answer")")
            #expect(reply?.string("error") == "invalid_request")
            #expect(reply?.header("Connection") == "close")
            #expect(try await server.health().status == 200)
        }
    }

    @Test("The metadata lists, endpoint by endpoint, the client authentication methods it accepts")
    func metadataAuthenticationMethods() async throws {
        try await Deployment.withServer(config: deploymentConfig()) { server in
            let metadata = try await server.request(.get, "/.well-known/oauth-authorization-server")
            for (member, methods) in [
                ("token_endpoint_auth_methods_supported", ["client_secret_basic", "client_secret_post", "none"]),
                ("introspection_endpoint_auth_methods_supported", ["client_secret_basic", "client_secret_post"]),
                ("revocation_endpoint_auth_methods_supported", ["client_secret_basic", "client_secret_post", "none"]),
            ] {
                #expect(metadata[member]?.array?.compactMap(\.string) == methods, "\(member)")
            }
        }
    }
}
