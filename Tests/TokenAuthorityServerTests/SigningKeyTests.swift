import Crypto
import Foundation
import HTTPTypes
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

/// README, "How tokens behave" (signing keys): a signing key generated on first start (or
/// configured), published at `/oauth2/jwks`; `keys rotate` keeps the old public key published until
/// every token it signed has expired.
@Suite("JWT signing keys and /oauth2/jwks")
struct SigningKeyTests {
    @Test("first start generates one ES256 key; /oauth2/jwks publishes its public half only, cacheable")
    func firstStartGeneratesAKey() async throws {
        try await TestServer.with { server in
            let reply = try await server.send(uri: "/oauth2/jwks", method: .get)
            #expect(reply.status == 200)
            #expect(reply.header("Cache-Control") == "public, max-age=60")
            guard case .array(let keys)? = reply["keys"], keys.count == 1, case .object(let key) = keys[0] else {
                Issue.record("one key expected: \(reply)")
                return
            }
            #expect(Set(key.keys) == ["kty", "crv", "x", "y", "kid", "use", "alg"])
            #expect(key["kty"] == "EC" && key["crv"] == "P-256" && key["alg"] == "ES256" && key["use"] == "sig")
            #expect(key["kid"]?.string == (try await server.services.store.currentSigningKeyID()))
            // A second start finds the key and keeps it.
            #expect(try await server.services.ensureSigningKey() == .existing(keyID: try #require(key["kid"]?.string)))
        }
    }

    @Test("the kid is the RFC 7638 thumbprint of the public key")
    func keyIDIsTheThumbprint() async throws {
        try await TestServer.with { server in
            let jwks = try await server.getJSON("/oauth2/jwks")
            guard case .array(let keys)? = jwks["keys"], case .object(let key)? = keys.first,
                let x = key["x"]?.string, let y = key["y"]?.string
            else {
                Issue.record("no key in \(jwks)")
                return
            }
            let input = #"{"crv":"P-256","kty":"EC","x":"\#(x)","y":"\#(y)"}"#
            #expect(key["kid"]?.string == base64URLEncode(Array(SHA256.hash(data: Data(input.utf8)))))
        }
    }

    @Test("keys rotate: new tokens use the new key; the old key stays published, its tokens verifiable and active")
    func rotationKeepsOldTokensVerifiable() async throws {
        try await TestServer.with { server in
            // Given a JWT signed before the rotation
            let client = try await server.client("app", format: .jwt, mayIntrospect: true)
            let before = try #require(try await server.clientCredentialsGrant(client, scope: "a").accessToken)
            let oldKeyID = try #require(try DecodedJWT(before).header["kid"]?.string)

            // When the operator rotates the key, and a token is issued for another key
            let newKeyID = try await server.services.rotateSigningKey()
            let after = try #require(try await server.clientCredentialsGrant(client, scope: "b").accessToken)

            // Then the new token names the new key, both verify against the published keys
            #expect(newKeyID != oldKeyID)
            #expect(try DecodedJWT(after).header["kid"] == .string(newKeyID))
            let jwks = try await server.getJSON("/oauth2/jwks")
            #expect(try DecodedJWT(before).verifies(against: jwks))
            #expect(try DecodedJWT(after).verifies(against: jwks))
            // and rotation revokes nothing
            #expect(try await server.introspect(before, as: Form.basic(client))["active"] == .bool(true))
            #expect(try await server.introspect(after, as: Form.basic(client))["active"] == .bool(true))
        }
    }

    @Test("JWTs requested while the key rotates: each is signed by the old key or the new one and verifies; once the rotation returned, the new key signs")
    func requestsRacingARotation() async throws {
        try await TestServer.with { server in
            // Given a JWT client and the current key
            let client = try await server.client("app", format: .jwt)
            let oldKeyID = try #require(try await server.services.store.currentSigningKeyID())

            // When 32 requests, each for its own scope, run while the operator rotates the key
            async let rotation = server.services.rotateSigningKey()
            let replies = try await withThrowingTaskGroup(of: HTTPReply.self) { group in
                for index in 0..<32 { group.addTask { try await server.clientCredentialsGrant(client, scope: "s\(index)") } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let newKeyID = try await rotation

            // Then every answer is a JWT naming one of the two keys, verified by the published keys
            #expect(replies.allSatisfy { $0.status == 200 }, "\(replies.filter { $0.status != 200 })")
            let jwks = try await server.getJSON("/oauth2/jwks")
            for reply in replies {
                let jwt = try DecodedJWT(try #require(reply.accessToken))
                #expect([oldKeyID, newKeyID].contains(try #require(jwt.header["kid"]?.string)))
                #expect(jwt.verifies(against: jwks))
            }
            // And a token asked for after the rotation returned names the new key
            let after = try #require(try await server.clientCredentialsGrant(client, scope: "after").accessToken)
            #expect(try DecodedJWT(after).header["kid"] == .string(newKeyID))
        }
    }

    @Test("a retired key leaves /oauth2/jwks once every token it signed has expired, not before")
    func retiredKeyIsPublishedUntilItsTokensExpire() async throws {
        try await TestServer.with { server in
            // Given a token of the first key, then a rotation
            let client = try await server.client("app", format: .jwt)
            _ = try await server.clientCredentialsGrant(client)
            let oldKeyID = try #require(try await server.services.store.currentSigningKeyID())
            server.clock.advance(seconds: 600)
            _ = try await server.services.rotateSigningKey()

            // Then the old key is published while its token lives (1 h from issue), and
            // while the rotation's horizon (1 h validity from the rotation) lasts
            server.clock.advance(seconds: 3000)
            #expect(try await publishedKeyIDs(server).contains(oldKeyID))
            server.clock.advance(seconds: 599)
            #expect(try await publishedKeyIDs(server).contains(oldKeyID))
            // and gone once both have passed
            server.clock.advance(seconds: 2)
            #expect(try await publishedKeyIDs(server) == [try #require(try await server.services.store.currentSigningKeyID())])
        }
    }

    @Test("a retired key stays published while a token it signed lives, even when validity was shortened since")
    func retiredKeyFollowsItsLongestLivedToken() async throws {
        try await TestServer.with { server in
            // Given a 1 h token of the first key
            let client = try await server.client("app", format: .jwt)
            _ = try await server.clientCredentialsGrant(client)
            let oldKeyID = try #require(try await server.services.store.currentSigningKeyID())

            // When an operator whose deployment.toml says 60 s rotates the key
            var configuration = server.services.configuration
            configuration.oauth.appAccessTokenValidity = 60
            configuration.oauth.userAccessTokenValidity = 60
            _ = try await TokenAuthorityServices.open(configuration: configuration, clock: server.clock.clock).rotateSigningKey()

            // Then the old key outlives the 60 s horizon, up to its token's expiry
            server.clock.advance(seconds: 3599)
            #expect(try await publishedKeyIDs(server).contains(oldKeyID))
            server.clock.advance(seconds: 2)
            #expect(try await !publishedKeyIDs(server).contains(oldKeyID))
        }
    }

    @Test("a configured PEM key becomes the signing key; its predecessor stays published")
    func configuredKey() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let pemPath = directory.file("signing.pem")
        let configuredKey = P256.Signing.PrivateKey()
        try configuredKey.pemRepresentation.write(toFile: pemPath, atomically: true, encoding: .utf8)
        try await TestServer.with { server in
            // Given a server that generated its own key and signed a token with it
            let client = try await server.client("app", format: .jwt)
            let before = try #require(try await server.clientCredentialsGrant(client, scope: "a").accessToken)

            // When it restarts with [oauth.jwt] signing_key on the same database
            var configuration = server.services.configuration
            configuration.jwt.signingKey = pemPath
            let restarted = try await TokenAuthorityServices.open(configuration: configuration, clock: server.clock.clock)
            let outcome = try await restarted.ensureSigningKey()

            // Then the configured key is current, under its thumbprint
            let raw = Array(configuredKey.publicKey.rawRepresentation)
            let input = #"{"crv":"P-256","kty":"EC","x":"\#(base64URLEncode(raw[0..<32]))","y":"\#(base64URLEncode(raw[32...]))"}"#
            let expected = base64URLEncode(Array(SHA256.hash(data: Data(input.utf8))))
            #expect(outcome == .configured(keyID: expected))
            #expect(try await restarted.store.currentSigningKeyID() == expected)
            // and the old token still verifies against the published keys
            let published = try await restarted.store.publishedSigningKeys(at: server.clock.now)
            #expect(published.count == 2)
            #expect(try DecodedJWT(before).verifies(against: jwks(published)))
            // and rotating by command is refused while a key is configured
            await #expect(throws: SigningKeyError.self) { try await restarted.rotateSigningKey() }
        }
    }

    @Test("a configured key file that is not a P-256 PEM key stops start-up with a message naming it")
    func brokenConfiguredKey() async throws {
        try await TestServer.with { server in
            let path = server.directory.file("broken.pem")
            try "-----BEGIN EC PRIVATE KEY-----\nnot a key\n-----END EC PRIVATE KEY-----\n".write(
                toFile: path, atomically: true, encoding: .utf8)
            var configuration = server.services.configuration
            configuration.jwt.signingKey = path
            let restarted = try await TokenAuthorityServices.open(configuration: configuration, clock: server.clock.clock)
            let error = await #expect(throws: SigningKeyError.self) { try await restarted.ensureSigningKey() }
            #expect(error?.description.contains(path) == true)
            #expect(try await restarted.store.signingKeys().count == 1)
        }
    }

    private func publishedKeyIDs(_ server: TestServer) async throws -> [String] {
        guard case .array(let keys)? = try await server.getJSON("/oauth2/jwks")["keys"] else { return [] }
        return keys.compactMap { if case .object(let key) = $0 { key["kid"]?.string } else { nil } }
    }

    private func jwks(_ records: [SigningKeyRecord]) throws -> [String: JSONValue] {
        try JSONDecoder().decode(
            [String: JSONValue].self,
            from: Data(#"{"keys":[\#(records.map(\.publicJWK).joined(separator: ","))]}"#.utf8))
    }
}
