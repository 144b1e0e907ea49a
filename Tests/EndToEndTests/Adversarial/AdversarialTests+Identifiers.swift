import Foundation
import HTTPTypes
import Testing
import TokenAuthorityTesting

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Look-alike identifiers, control characters in forms, and the bounded echo of a username.
extension AdversarialTests {
    // MARK: - Look-alike identifiers

    @Test("A client id with a KELVIN SIGN is refused at creation; app-K is created, and the KELVIN spelling never authenticates as it; a legacy KELVIN id blocks its Latin twin")
    func kelvinSignClientID() async throws {
        try await Deployment.withServer(config: withoutAdmin(deploymentConfig())) { server in
            // Given an operator who creates a client whose id ends in U+212A KELVIN SIGN (NFC turns it into K)
            let kelvin = "app-\u{212A}"
            let clientsBefore = try await server.deployment.count("clients")
            let refused = try await server.run(["client", "create", "--name", uniqueName("kelvin"), "--json", "--client-id", kelvin])

            // Then it fails, saying an id is printable ASCII (RFC 6749 Appendix A.1, VSCHAR)
            expectFailure(refused, "client create --client-id app-KELVIN")
            #expect(refused.stderr.contains("printable ASCII"), "\(refused.stderr)")
            #expect(try await server.deployment.count("clients") == clientsBefore)

            // When the operator creates app-K
            let created = try await server.run(["client", "create", "--name", uniqueName("plain"), "--json", "--client-id", "app-K"])
            expectSuccess(created, "client create --client-id app-K")
            let client = try JSONDecoder().decode(ClientKeys.self, from: Data(created.stdout.utf8))
            #expect(Array(client.id.utf8) == Array("app-K".utf8), "client id bytes: \(hexUTF8(client.id))")

            // Then it gets a token
            expectStatus(try await server.clientCredentials(client), 200, "app-K's token request")
            // And its secret under the KELVIN spelling of its id is invalid_client (ids compare as bytes)
            let lookAlike = try await server.postToken(
                "grant_type=client_credentials", headers: [.authorization: Form.basic(id: kelvin, secret: client.secret)])
            expectStatus(lookAlike, 401, "the KELVIN spelling of app-K")
            #expect(lookAlike.string("error") == "invalid_client", "\(lookAlike)")
            // And exactly one client was created, app-K
            #expect(try await server.deployment.count("clients") == clientsBefore + 1)
            #expect(try await server.deployment.count("clients", where: "hex(client_id) = '\(hexUTF8("app-K"))'") == 1)
            #expect(try await server.deployment.count("access_tokens", where: "hex(client_id) = '\(hexUTF8(kelvin))'") == 0)

            // Given a legacy client stored with a KELVIN SIGN before the rule, straight into the database
            let legacy = "old-\u{212A}"
            _ = try await server.deployment.sqlite(
                "INSERT INTO clients (client_id, name, secret_sha256, grant_types, created_at) "
                    + "VALUES (CAST(X'\(hexUTF8(legacy))' AS TEXT), 'legacy', zeroblob(32), 'client_credentials', 0)")
            // When the operator creates its Latin twin, old-K
            let twin = try await server.run(["client", "create", "--name", uniqueName("twin"), "--json", "--client-id", "old-K"])
            // Then it fails, naming the existing client
            expectFailure(twin, "client create --client-id old-K beside a legacy old-KELVIN")
            #expect(twin.stderr.contains("existing client"), "\(twin.stderr)")
            #expect(try await server.deployment.count("clients", where: "hex(client_id) = '\(hexUTF8("old-K"))'") == 0)
        }
    }

    @Test("A username not in NFC is refused; an NFC twin of a legacy NFD user is refused naming it; the NFD spelling never logs in as the NFC user")
    func unicodeNormalizationOfUsernames() async throws {
        try await Deployment.withServer(config: withoutAdmin(deploymentConfig())) { server in
            let password = "Right-Pa55-\(UUID().uuidString.prefix(6))"
            let decomposed = "jose\u{301}"  // e + COMBINING ACUTE ACCENT
            let composed = "jos\u{E9}"  // LATIN SMALL LETTER E WITH ACUTE

            // When the operator creates a user whose name is decomposed (NFD)
            let refused = try await server.run(["user", "create", "--password-stdin", "--", decomposed], stdin: password + "\n")
            // Then it fails, saying usernames are in Unicode Normalization Form C (README, Commands)
            expectFailure(refused, "user create (NFD)")
            #expect(refused.stderr.contains("NFC"), "\(refused.stderr)")
            #expect(try await server.deployment.count("users", where: "hex(username) = '\(hexUTF8(decomposed))'") == 0)

            // When the operator creates the composed (NFC) spelling
            let created = try await server.run(["user", "create", "--password-stdin", "--", composed], stdin: password + "\n")
            // Then it is created
            expectSuccess(created, "user create (NFC)")
            #expect(try await server.deployment.count("users", where: "hex(username) = '\(hexUTF8(composed))'") == 1)

            // Given a legacy user stored in NFD before the rule, straight into the database
            let legacyNFD = "zoe\u{308}"  // e + COMBINING DIAERESIS
            let twinNFC = "zo\u{EB}"
            _ = try await server.deployment.sqlite(
                "INSERT INTO users (username, password_hash, created_at) "
                    + "VALUES (CAST(X'\(hexUTF8(legacyNFD))' AS TEXT), '$scrypt$ln=4,r=8,p=1$AAAA$AAAA', 0)")
            // When the operator creates its NFC twin
            let twin = try await server.run(["user", "create", "--password-stdin", "--", twinNFC], stdin: password + "\n")
            // Then it fails, naming the existing user (its exact bytes)
            expectFailure(twin, "user create (the NFC twin)")
            #expect(twin.stderr.contains("existing user"), "\(twin.stderr)")
            #expect(
                Array(twin.stderr.utf8).firstRange(of: Array(legacyNFD.utf8)) != nil,
                "stderr does not name the NFD user byte for byte: \(hexUTF8(twin.stderr))")
            #expect(try await server.deployment.count("users", where: "hex(username) = '\(hexUTF8(twinNFC))'") == 0)

            // When a password grant presents the NFD spelling of the NFC user, with the right password
            let client = try await server.deployment.createClient()
            let lookAlike = try await server.postToken(
                "grant_type=password&username=\(Form.component(decomposed))&password=\(Form.component(password))", client: client)
            // Then it is invalid_grant: the bytes differ, so no user has that name
            expectStatus(lookAlike, 400, "the NFD spelling of an NFC user")
            #expect(lookAlike.string("error") == "invalid_grant", "\(lookAlike)")
            #expect(try await server.deployment.count("access_tokens", where: "subject_type = 'user'") == 0)
            // And the NFC user's account saw no failed login
            let failures = try await server.deployment.sqlite(
                "SELECT failed_login_attempts FROM users WHERE hex(username) = '\(hexUTF8(composed))'")
            #expect(failures == "0")
            // And the NFC spelling logs in
            let login = try await server.postToken(
                "grant_type=password&username=\(Form.component(composed))&password=\(Form.component(password))", client: client)
            expectStatus(login, 200, "the NFC user")
            expectNoSecret(in: server.standardError, [password])
        }
    }

    // MARK: - Control characters in forms

    @Test("A NUL or control character in a form value is invalid_request: client_id=ID%00x never authenticates as ID, username=NAME%00xyz never logs in")
    func controlCharactersInForms() async throws {
        try await Deployment.withServer(config: withoutAdmin(deploymentConfig())) { server in
            // Given a client and a user
            let password = "Right-Pa55-\(UUID().uuidString.prefix(6))"
            let client = try await server.deployment.createClient()
            let user = try await server.deployment.createUser(password: password)
            var tokenRequests = 0

            // When the client's id is followed by %00x in the body, with its right secret
            let nulClient = try await server.postToken(
                "grant_type=client_credentials&client_id=\(Form.component(client.id))%00x&client_secret=\(Form.component(client.secret))")
            tokenRequests += 1
            // Then the request is invalid_request, not a token (RFC 6749 Appendix A: no controls)
            expectStatus(nulClient, 400, "client_id=ID%00x")
            #expect(nulClient.string("error") == "invalid_request", "\(nulClient)")
            let tokenIssued = nulClient.string("access_token") != nil
            #expect(!tokenIssued, "client_id=ID%00x got a token")
            // And its log line names no client: the id was never taken as ID
            try await waitForLogLines(server, endpoint: "/oauth2/token", count: tokenRequests)
            let namingClient = server.standardError.split(separator: "\n").filter { $0.contains("client_id=\(client.id)") }
            #expect(namingClient.isEmpty, "log lines naming the client: \(namingClient.count)")

            // When a user's name is followed by %00xyz, with the right password
            let nulUser = try await server.postToken(
                "grant_type=password&username=\(Form.component(user))%00xyz&password=\(Form.component(password))", client: client)
            tokenRequests += 1
            // Then it is invalid_request, not a login
            expectStatus(nulUser, 400, "username=NAME%00xyz")
            #expect(nulUser.string("error") == "invalid_request", "\(nulUser)")

            // And so is LF, CR, ESC or DEL in a username or a scope
            for control in ["%0A", "%0D", "%1B", "%7F"] {
                let inUsername = try await server.postToken(
                    "grant_type=password&username=\(Form.component(user))\(control)&password=\(Form.component(password))",
                    client: client)
                expectStatus(inUsername, 400, "\(control) in a username")
                #expect(inUsername.string("error") == "invalid_request", "\(control) in a username: \(inUsername)")
                let inScope = try await server.postToken("grant_type=client_credentials&scope=read\(control)write", client: client)
                expectStatus(inScope, 400, "\(control) in a scope")
                #expect(inScope.string("error") == "invalid_request", "\(control) in a scope: \(inScope)")
                tokenRequests += 2
            }

            // And nothing was issued, and the user's account saw no failed login
            #expect(try await server.deployment.count("access_tokens") == 0)
            #expect(try await server.deployment.sqlite("SELECT failed_login_attempts FROM users WHERE username = \(sqlQuoted(user))") == "0")
            // And the right request still works, and its log line does name the client (the check above could fail)
            expectStatus(try await server.clientCredentials(client), 200, "the client's own token request")
            tokenRequests += 1
            try await waitForLogLines(server, endpoint: "/oauth2/token", count: tokenRequests)
            #expect(server.standardError.contains("client_id=\(client.id)"), "no log line names the client")
            expectNoSecret(in: server.standardError, [password, client.secret])
        }
    }

    // MARK: - Bounded echo

    @Test("A 10,000-character username is echoed in error_description cut to 64 characters and an ellipsis (three dots)")
    func boundedUsernameEcho() async throws {
        try await Deployment.withServer(config: withoutAdmin(deploymentConfig())) { server in
            // Given a client, and a 10,000-character username no one has
            let client = try await server.deployment.createClient()
            let username = String(repeating: "0123456789", count: 1000)

            // When a password grant presents it with a wrong password
            let reply = try await server.passwordGrant(client, username: username, password: "wrong-guess")

            // Then it is 400 invalid_grant, "Authentication failed for " and the first 64 characters and "..."
            expectStatus(reply, 400, "a 10,000-character username")
            #expect(reply.string("error") == "invalid_grant", "\(reply)")
            let description = try #require(reply.string("error_description"), "no error_description")
            let prefix = "Authentication failed for "
            #expect(description.hasPrefix(prefix), "error_description begins \(description.prefix(40))")
            #expect(description.count <= prefix.count + 64 + 3, "error_description is \(description.count) characters")
            #expect(description == prefix + String(username.prefix(64)) + "...", "error_description: \(description)")
            #expect(reply.body.utf8.count < 300, "the body is \(reply.body.utf8.count) bytes")

            // And a username with a right-to-left override is echoed with the override replaced
            let disguised = try await server.passwordGrant(client, username: "evil\u{202E}gpj.exe", password: "wrong-guess")
            expectStatus(disguised, 400, "a username with U+202E")
            let echoed = disguised.string("error_description") ?? ""
            #expect(!echoed.unicodeScalars.contains("\u{202E}"), "the override is echoed as is")
        }
    }
}
